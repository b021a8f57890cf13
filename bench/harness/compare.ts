// Comparison of the two kernel sets: speedups for the whole model, each
// operator and each operator type.

import { KernelSetResult, OperatorComparison, OperatorTiming, OperatorTypeComparison, Speedup } from "./types.js";

/** Returns naive / microq for time and meter, so that 3 means microq takes a third of the naive time. */
export function speedupOf(microqMs: number, naiveMs: number, microqMeter: number | null, naiveMeter: number | null): Speedup {
  return {
    time: naiveMs / microqMs,
    meter: microqMeter !== null && naiveMeter !== null ? naiveMeter / microqMeter : null,
  };
}

/** Returns microq's operator timings with the naive fields null, for a model that the baseline cannot prepare. */
function operatorsWithoutBaseline(microq: readonly OperatorTiming[]): OperatorComparison[] {
  return microq.map((fast) => ({
    index: fast.index,
    name: fast.name,
    macs: fast.macs,
    microqMs: fast.timing.medianMs,
    naiveMs: null,
    microqMeter: fast.timing.meter,
    naiveMeter: null,
    speedup: null,
  }));
}

/**
 * Pairs the operator timings of both kernel sets by operator index. With
 * `naive` null, because the baseline cannot prepare the model, the naive
 * fields are null.
 */
export function compareOperators(microq: readonly OperatorTiming[], naive: readonly OperatorTiming[] | null): OperatorComparison[] {
  if (naive === null) return operatorsWithoutBaseline(microq);
  if (microq.length !== naive.length) {
    throw new Error(`microq timed ${microq.length} operators but the naive baseline ${naive.length}; both must run the same model`);
  }
  return microq.map((fast, i) => {
    const slow = naive[i];
    return {
      index: fast.index,
      name: fast.name,
      macs: fast.macs,
      microqMs: fast.timing.medianMs,
      naiveMs: slow.timing.medianMs,
      microqMeter: fast.timing.meter,
      naiveMeter: slow.timing.meter,
      speedup: speedupOf(fast.timing.medianMs, slow.timing.medianMs, fast.timing.meter, slow.timing.meter),
    };
  });
}

/** Adds a figure that may be missing: a missing figure makes the sum missing. */
function addOptional(sum: number | null, value: number | null): number | null {
  return sum === null || value === null ? null : sum + value;
}

/** Sums the operator comparisons by operator type, in order of first appearance. */
export function compareOperatorTypes(operators: readonly OperatorComparison[]): OperatorTypeComparison[] {
  const byName = new Map<string, OperatorTypeComparison>();
  for (const operator of operators) {
    let total = byName.get(operator.name);
    if (total === undefined) {
      total = {
        name: operator.name,
        count: 0,
        macs: 0,
        microqMs: 0,
        naiveMs: operator.naiveMs === null ? null : 0,
        microqMeter: operator.microqMeter === null ? null : 0,
        naiveMeter: operator.naiveMeter === null ? null : 0,
        speedup: null,
      };
      byName.set(operator.name, total);
    }
    total.count++;
    total.macs += operator.macs;
    total.microqMs += operator.microqMs;
    total.naiveMs = addOptional(total.naiveMs, operator.naiveMs);
    total.microqMeter = addOptional(total.microqMeter, operator.microqMeter);
    total.naiveMeter = addOptional(total.naiveMeter, operator.naiveMeter);
  }
  const totals = Array.from(byName.values());
  for (const total of totals) {
    total.speedup = total.naiveMs === null ? null : speedupOf(total.microqMs, total.naiveMs, total.microqMeter, total.naiveMeter);
  }
  return totals;
}

/** Returns the whole-model speedup of microq over the naive baseline. */
export function compareInvokes(microq: KernelSetResult, naive: KernelSetResult): Speedup {
  return speedupOf(microq.invoke.medianMs, naive.invoke.medianMs, microq.invoke.meter, naive.invoke.meter);
}
