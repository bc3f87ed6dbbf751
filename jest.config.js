const jestJupyterLab = require('@jupyterlab/testing/lib/jest-config');

// ES modules that jest must transform (the base list, plus axios).
const esModules = [
  '@codemirror',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@jupyter/ydoc',
  '@jupyterlab/',
  '@marijn',
  '@microsoft',
  'axios',
  'color',
  'exenv-es6',
  'lib0',
  'marked',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

const {
  coverageDirectory,
  coverageReporters,
  reporters,
  testTimeout,
  ...baseConfig
} = jestJupyterLab(__dirname);

const shared = {
  ...baseConfig,
  rootDir: __dirname,
  roots: ['<rootDir>/src'],
  automock: false,
  modulePathIgnorePatterns: [
    '<rootDir>/jupyterlab_compute_panel/labextension',
    '<rootDir>/.venv',
    '<rootDir>/lib',
    '<rootDir>/ui-tests'
  ],
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`]
};

module.exports = {
  collectCoverageFrom: [
    'src/**/*.{ts,tsx}',
    '!src/**/*.d.ts',
    '!src/**/__tests__/**'
  ],
  coverageDirectory,
  coverageReporters: ['lcov', 'text'],
  reporters: ['default'],
  testTimeout,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testRegex: '/src/(.*/)?__tests__/.*\\.spec\\.tsx?$',
      testPathIgnorePatterns: [
        ...baseConfig.testPathIgnorePatterns,
        '\\.integration\\.spec\\.ts$'
      ]
    },
    {
      // A real jupyter_server in a child process: node environment, no
      // browser shims.
      ...shared,
      displayName: 'integration',
      testEnvironment: 'node',
      setupFiles: [],
      testRegex: '/src/(.*/)?__tests__/.*\\.integration\\.spec\\.ts$'
    }
  ]
};
