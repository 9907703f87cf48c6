/**
 * The record `cloud:deploy` keeps on the VPS per service (/var/lib/ziggie/deploy/<svc>.json), and the rule
 * `provision:vps` follows so that a re-run does not undo an agent's deploy:
 *
 *   the config's image, unless an agent deployed another one since the config last changed.
 *
 * `config` in the record is the config's image when the deploy history began (the deploy records the image it
 * replaced the first time; provision:vps records the config's image whenever it changes). While the config still
 * names that image, the deployed image (`current`) stays. When the config names another image, that is the
 * operator's newer explicit choice: provision:vps rolls the service to it and records it as `current` (the
 * deployed one becomes `previous`, so `cloud:rollback` can go back to it).
 */
export const DEPLOY_STATE_DIR = '/var/lib/ziggie/deploy';

export const deployStatePath = (service: string): string => `${DEPLOY_STATE_DIR}/${service}.json`;

export interface DeployState {
  /** the config's image the deploys started from (or provision:vps last rolled to) */
  config?: string;
  current?: string;
  previous?: string;
  history: { image: string; at: string; result: 'deployed' | 'rolled-back' | 'rollback' | 'provisioned' }[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** A record as the host holds it; an unreadable one is an empty history (the config's image then wins). */
export function parseDeployState(text: string): DeployState {
  try {
    const s = JSON.parse(text) as Record<string, unknown>;
    return { config: str(s.config), current: str(s.current), previous: str(s.previous), history: Array.isArray(s.history) ? s.history as DeployState['history'] : [] };
  } catch {
    return { history: [] };
  }
}

export const renderDeployState = (s: DeployState): string => `${JSON.stringify(s, null, 2)}\n`;

export interface ProvisionedImage {
  /** the image the service's compose file names */
  image: string;
  /** why it is not the config's image (shown in the run's output) */
  why?: string;
  /** the record to write (only when it changes) */
  record?: DeployState;
}

/** The image provision:vps renders for a service whose config names `configImage`, given the host's record. */
export function provisionedImage(configImage: string, state: DeployState | undefined, now: () => string = () => new Date().toISOString()): ProvisionedImage {
  if (!state?.current) return { image: configImage };
  if (state.config === undefined) {
    // a record from before provision:vps kept one: the deploy is the newer act; remember the config from now on
    return { image: state.current, why: `keeps ${state.current} (deployed)`, record: { ...state, config: configImage } };
  }
  if (state.config === configImage) {
    return state.current === configImage ? { image: configImage } : { image: state.current, why: `keeps ${state.current} (deployed; the config still names ${configImage})` };
  }
  return {
    image: configImage,
    why: `the config now names ${configImage} (was ${state.config}): it replaces the deployed ${state.current}`,
    record: {
      config: configImage,
      current: configImage,
      previous: state.current === configImage ? state.previous : state.current,
      history: [...state.history, { image: configImage, at: now(), result: 'provisioned' as const }].slice(-20),
    },
  };
}
