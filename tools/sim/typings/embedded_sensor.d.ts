// Types for ECMA-419 sensor classes ("embedded:sensor/<Kind>/<Part>"), which
// @moddable/typings does not declare. Every sensor class has a constructor that
// takes an options object (`sensor` names the bus: `{ ...device.I2C.default, io: device.io.I2C }`),
// configure(options), sample() and close(). sample() returns one reading, for
// example `{ x, y, z }` in m/s^2 for an accelerometer, or undefined when none is ready.
// The host simulation (tools/sim/shims/sensor.js) replays recorded readings through
// this same interface.
declare module "embedded:sensor/*" {
  export interface SensorOptions {
    sensor?: Record<string, unknown>;
    [option: string]: unknown;
  }
  export default class Sensor {
    constructor(options: SensorOptions);
    configure(options: Record<string, unknown>): void;
    sample(): any;
    close(): void;
  }
}
