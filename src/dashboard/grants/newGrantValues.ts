/**
 * The "New grant" form's values: the fields as typed, and the POST /grants
 * body made of them.
 */
import { ComputePanelAPI } from '../../api';
import { parseThresholds } from './editValues';

/**
 * The fields of a new grant, as typed.
 */
export interface INewGrantValues {
  id: string;
  award_number: string;
  title: string;
  funder: string;
  pi: string;
  budget: string;
  currency: string;
  start_date: string;
  end_date: string;
  co_pis: string;
  members: string;
  allowed_tiers: string[] | null;
  alert_thresholds: string;
  hard_stop: boolean;
  min_runtime_minutes: string;
  sensitive: boolean;
}

export function emptyNewGrant(today: string): INewGrantValues {
  return {
    id: '',
    award_number: '',
    title: '',
    funder: '',
    pi: '',
    budget: '',
    currency: 'USD',
    start_date: today,
    end_date: '',
    co_pis: '',
    members: '',
    allowed_tiers: null,
    alert_thresholds: '50, 80, 100',
    hard_stop: true,
    min_runtime_minutes: '15',
    sensitive: false
  };
}

const users = (text: string) =>
  text
    .split(/[\s,;]+/)
    .map(u => u.trim())
    .filter(Boolean);

/**
 * The POST /grants body of the form; the server validates every field.
 */
export function newGrantBody(
  values: INewGrantValues
): ComputePanelAPI.INewGrant {
  const body: ComputePanelAPI.INewGrant = {
    id: values.id.trim(),
    award_number: values.award_number.trim(),
    title: values.title.trim(),
    funder: values.funder.trim(),
    pi: values.pi.trim(),
    budget: values.budget.trim(),
    currency: values.currency.trim().toUpperCase(),
    start_date: values.start_date,
    end_date: values.end_date,
    allowed_tiers: values.allowed_tiers,
    hard_stop: values.hard_stop,
    sensitive: values.sensitive
  };
  const coPis = users(values.co_pis);
  if (coPis.length) {
    body.co_pis = coPis;
  }
  const members = users(values.members);
  if (members.length) {
    body.members = members.map(user => ({ user, role: 'member' }));
  }
  const thresholds = parseThresholds(values.alert_thresholds);
  if (thresholds && thresholds.length) {
    body.alert_thresholds = thresholds;
  }
  if (values.min_runtime_minutes.trim() !== '') {
    body.min_runtime_minutes = values.min_runtime_minutes.trim();
  }
  return body;
}
