// The @jupyterlab/testing preset (transpiles the ES modules jest loads).
module.exports = require('@jupyterlab/testing/lib/babel-config').default;
