/**
 * The contract between the GPU stack's alarms, the on-instance watchdog and CloudWatch agent config (baked into
 * the AMI by playbooks/comfyui-ami), and the gpu-control Lambda. Change a name here and all three follow.
 */
export const GPU_ROLE_TAG = { key: 'Role', value: 'comfyui-gpu' } as const;
export const GPU_NAME = 'ziggie-comfyui';

/** Published every minute by the on-instance watchdog: items running + pending in ComfyUI's /queue. */
export const COMFYUI_QUEUE_METRIC = { namespace: 'Ziggie/ComfyUI', name: 'QueueDepth' } as const;

/**
 * The CloudWatch agent's nvidia_smi plugin, aggregated to the InstanceId dimension alone (the agent config sets
 * `aggregation_dimensions: [["InstanceId"]]`) so an alarm can name the metric exactly.
 */
export const GPU_UTILIZATION_METRIC = { namespace: 'CWAgent', name: 'nvidia_smi_utilization_gpu' } as const;

/** Below these, a one-minute sample counts as idle. */
export const IDLE_THRESHOLDS = { cpuPercent: 10, gpuPercent: 5, queueDepth: 1 } as const;

/** The SSM parameter bake-ami writes and the GPU stack reads (unless the config pins `gpu.amiId`). */
export const AMI_PARAMETER_DEFAULT = '/ziggie/comfyui/ami-id';
