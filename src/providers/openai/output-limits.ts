/**
 * The completion-token ceiling per upstream model of one openai provider: the configured
 * `models[].maxOutputTokens` or else `options.maxOutputTokens`, lowered by what the upstream said when it rejected a larger value
 * (output-limit.ts). One adapter instance serves one configured provider (create-provider.ts),
 * so the models here are that endpoint's. Memory only: a restart or a config reload forgets,
 * and the first request after it is corrected again.
 */

/** Model names come from requests (`$model` targets): keep the map from growing without end. */
const MAX_MODELS = 1024;

export class OutputLimits {
  private readonly learned = new Map<string, number>();

  /** `perModel` (`models[].maxOutputTokens`) overrides `configured` for its models. */
  constructor(
    private readonly configured: number | undefined,
    private readonly perModel: Readonly<Record<string, number>> = {},
  ) {}

  /** The most completion tokens to ask `model` for; undefined: no ceiling known. */
  ceiling(model: string): number | undefined {
    const learned = this.learned.get(model);
    const configured = Object.hasOwn(this.perModel, model) ? this.perModel[model] : this.configured;
    if (learned === undefined) return configured;
    return configured === undefined ? learned : Math.min(learned, configured);
  }

  /** Remember the limit `model`'s upstream stated; true when it lowers that model's ceiling. */
  learn(model: string, limit: number): boolean {
    const before = this.ceiling(model);
    const known = this.learned.get(model);
    if (known !== undefined && known <= limit) return false;
    if (known === undefined && this.learned.size >= MAX_MODELS) {
      const oldest = this.learned.keys().next().value;
      if (oldest !== undefined) this.learned.delete(oldest);
    }
    this.learned.set(model, limit);
    return before === undefined || limit < before;
  }
}
