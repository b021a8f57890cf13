// Host simulation shim of Moddable's "timer" module, on virtual time.
//
// Timer.set(callback, interval = 0, repeat = 0), Timer.repeat(callback, interval),
// Timer.schedule(timer, interval, repeat), Timer.clear(timer) and Timer.delay(ms)
// behave as on a device, but no time passes: runTimers() (called by the simulation's
// entry module after main has loaded) jumps the clock to the next due timer and calls
// it. Timers due at the same time fire in the order they were scheduled.
//
// The simulation ends when no timer is left (the example cleared them all, which is
// the documented way for an example to stop) or when the clock would pass `untilMs`
// (sim.json "untilMs", default 60000).
let now = 0;
let sequence = 0;
const active = new Set();

class Timer {
  constructor(callback, interval, repeat) {
    this.callback = callback;
    this.repeatInterval = 0;
    this.due = 0;
    this.order = 0;
    Timer.schedule(this, interval, repeat);
  }

  static set(callback, interval = 0, repeat = 0) {
    return new Timer(callback, interval, repeat);
  }

  static repeat(callback, interval) {
    return new Timer(callback, interval, interval);
  }

  static schedule(timer, interval = 0, repeat = 0) {
    timer.due = now + Math.max(0, interval);
    timer.repeatInterval = Math.max(0, repeat);
    timer.order = sequence++;
    active.add(timer);
  }

  static clear(timer) {
    if (timer !== undefined && timer !== null) active.delete(timer);
  }

  static delay(milliseconds) {
    now += Math.max(0, milliseconds);
  }
}

function nextTimer() {
  let next;
  for (const timer of active) {
    if (next === undefined || timer.due < next.due || (timer.due === next.due && timer.order < next.order)) next = timer;
  }
  return next;
}

/** Milliseconds of virtual time since the simulation started. */
export function virtualNow() {
  return now;
}

/**
 * Runs timers until none is left or the next one is due after `untilMs`. Returns
 * { reason: "no timers" | "time limit", ms }.
 */
export function runTimers(untilMs) {
  for (;;) {
    const timer = nextTimer();
    if (timer === undefined) return { reason: "no timers", ms: now };
    if (timer.due > untilMs) return { reason: "time limit", ms: now };
    now = Math.max(now, timer.due);
    if (timer.repeatInterval > 0) {
      timer.due = now + timer.repeatInterval;
      timer.order = sequence++;
    } else {
      active.delete(timer);
    }
    timer.callback(timer);
  }
}

export { Timer as default };
