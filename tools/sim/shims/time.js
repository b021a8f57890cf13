// Host simulation shim of Moddable's "time" module: Time.ticks is the virtual
// clock of the timer shim in milliseconds, so durations measured with it are 0
// unless a timer fired in between. Use the XS meter figures of `microq bench`
// for inference time estimates.
import { virtualNow } from "timer";

const Time = {
  get ticks() {
    return virtualNow();
  },
  delta(start, end) {
    return (end ?? virtualNow()) - start;
  },
  set() {},
  timezone: 0,
  dst: 0,
};

export { Time as default };
