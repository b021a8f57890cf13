// Host simulation shim of an ECMA-419 sensor class ("embedded:sensor/..."). For each
// specifier that an example's sim.json lists under "sensors", tools/sim/simulate.ts
// generates a module that exports sensorClass(specifier, samples), where samples are
// the recorded readings from the JSON file named there (an array, one reading per
// sample() call). sample() returns the next reading, and undefined once all are used;
// the example should then stop its timers.
export function sensorClass(specifier, samples) {
  return class Sensor {
    constructor(options = {}) {
      this.options = { ...options };
      this.next = 0;
    }

    configure(options = {}) {
      Object.assign(this.options, options);
    }

    sample() {
      if (this.next >= samples.length) return undefined;
      return samples[this.next++];
    }

    close() {}

    static get specifier() {
      return specifier;
    }
  };
}
