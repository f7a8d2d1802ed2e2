/** The publication invariant (see `publicationDrift`): empty when every channel shows the formula's figure. */
export { publicationDrift as checkPublished } from '../../src/channels/channel-publication.js';
