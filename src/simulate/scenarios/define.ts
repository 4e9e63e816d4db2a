/**
 * Turning a scenario builder into a registry entry: checks the common and extra parameters,
 * prepares the environment and wraps the parts in a `ScenarioRun`.
 */
import type {
  GeneratorContext,
  ParamDoc,
  ScenarioDef,
  ScenarioName,
  ScenarioParams,
} from '../traffic/types.ts';
import { ScenarioModelError } from './errors.ts';
import { Extra, checkCommon } from './params.ts';
import { ScenarioRun, type Env, type Part } from './run.ts';
import { worldOf } from './world.ts';

/** What a scenario module declares. */
export interface ScenarioSpec {
  name: ScenarioName;
  description: string;
  defaultDurationMs: number;
  params: readonly ParamDoc[];
  /** Builds the parts; throws `ScenarioParamError`/`ScenarioModelError` only. */
  build(env: Env, extra: Extra): Part[];
}

/** The environment of a scenario instance (also used by `campaign` for its stages). */
export function makeEnv(ctx: GeneratorContext, params: ScenarioParams, name: ScenarioName): Env {
  const p = checkCommon(params);
  if (!ctx?.model || !ctx.rng) throw new ScenarioModelError('generator context without model or rng');
  if (ctx.model.providers.length === 0) throw new ScenarioModelError('the model has no provider');
  return {
    scenario: name,
    label: name,
    key: `${name}@${p.start}`,
    ctx,
    world: worldOf(ctx.model, ctx.table),
    p,
  };
}

/** A registry entry from a spec. */
export function defineScenario(spec: ScenarioSpec): ScenarioDef {
  return {
    name: spec.name,
    description: spec.description,
    defaultDurationMs: spec.defaultDurationMs,
    params: spec.params,
    create(ctx, params) {
      const env = makeEnv(ctx, params, spec.name);
      const extra = new Extra(params.extra, spec.params);
      return new ScenarioRun(env, spec.build(env, extra));
    },
  };
}
