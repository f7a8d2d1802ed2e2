// The order lifecycle's public commands: every caller (API routes, channel events, the importer,
// workers) changes orders through these.
export { type AmendRequest, type AmendResult, amendLocked } from './amend.js';
export { fillBackorders } from './backorders.js';
export { type CancelResult, cancelLocked, cancelOrder, cancelOrderByStaff } from './cancel.js';
export { type InboundDelivery, type IntakeResult, insertOrder, intakeOrder, recordOrder } from './intake.js';
export { type LockedOrder, lockOrderForChange, withOrderLocked } from './order-store.js';
export { processOrder, processOrders } from './processing.js';
export { type ShipmentRequest, type ShipmentResult, shipOrder } from './ship.js';
export { holdOrder, MANUAL_TARGETS, releaseOrder, setOrderStatus } from './status.js';
