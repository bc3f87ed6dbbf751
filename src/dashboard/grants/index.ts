/**
 * Grant editing for its PI or an admin: the "Edit grant" form, the members
 * list, and the "New grant" form of an admin. The server validates; its
 * message is shown next to the field it names.
 */
export * from './editValues';
export * from './GrantEditForm';
export * from './MembersEditor';
export * from './newGrantValues';
export * from './NewGrantForm';
export * from './confirmStops';
export * from './selfChange';
