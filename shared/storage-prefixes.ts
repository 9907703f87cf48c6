/**
 * The key prefixes of the two data buckets. Other parts of the project import these (the VPS backup job writes
 * under BACKUP_PREFIXES, ComfyUI uploads under ASSET_PREFIXES.comfyuiGenerated) and the IAM stack scopes the VPS's
 * write access to BACKUP_PREFIXES, so a prefix is named once, here. No cdktf imports: cheap to import anywhere.
 * docs/storage.md describes each prefix.
 */
export const ASSET_PREFIXES = {
  /** 2D sprites and sprite sheets used by the game client. */
  sprites: 'game-assets/sprites/',
  /** 3D models (glTF/GLB, FBX) used by the game client. */
  models3d: 'game-assets/3d-models/',
  /** Images ComfyUI generates on the GPU instance, uploaded by its output hook. */
  comfyuiGenerated: 'comfyui/generated/',
  /** Anything shared between services that is safe to serve through the CDN. */
  shared: 'shared/',
} as const;

export const BACKUP_PREFIXES = {
  /** n8n workflow exports (JSON), one object per export run. */
  n8nWorkflows: 'n8n/workflows/',
  /** Flowise chatflow exports (JSON). */
  flowiseChatflows: 'flowise/chatflows/',
  /** Grafana dashboard exports (JSON). */
  grafanaDashboards: 'grafana/dashboards/',
  /** Database dumps (pg_dump custom format, redis RDB), compressed. */
  databases: 'databases/',
} as const;

export type AssetPrefix = (typeof ASSET_PREFIXES)[keyof typeof ASSET_PREFIXES];
export type BackupPrefix = (typeof BACKUP_PREFIXES)[keyof typeof BACKUP_PREFIXES];
