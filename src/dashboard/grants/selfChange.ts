/**
 * Whether a change of the members is the user's own loss of a role: their
 * own removal, or a PI making themselves a member or viewer. Either ends
 * their editing of the grant, so the dashboard asks first, in those words.
 */
import { ComputePanelAPI } from '../../api';

export type SelfChange = 'leave' | 'demote' | null;

/**
 * What `next` (a role, or null for a removal) does to `me` when `member` is
 * them; null when it is someone else's change or keeps their role.
 */
export function selfChange(
  member: Pick<ComputePanelAPI.IMember, 'user' | 'role'>,
  me: string | null | undefined,
  next: ComputePanelAPI.Role | null
): SelfChange {
  if (!me || member.user !== me) {
    return null;
  }
  if (next === null) {
    return 'leave';
  }
  return member.role === 'pi' && next !== 'pi' ? 'demote' : null;
}
