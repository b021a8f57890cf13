// Host simulation shim of ECMA-419's "embedded:io/pwm": resolution is 10 bits, as
// on Moddable's ESP32 implementation by default, and write(value) prints
// "pwm pin=<pin> duty=<value>". A value outside 0 to 2^resolution - 1 throws, as
// on a device.
class PWM {
  constructor(options) {
    this.pin = options.pin;
    this.hz = options.hz ?? 1024;
    this.resolution = 10;
    this.format = "number";
  }

  write(value) {
    const maximum = 2 ** this.resolution - 1;
    if (!Number.isInteger(value) || value < 0 || value > maximum) {
      throw new RangeError(`PWM value ${value} is out of range: use an integer from 0 to ${maximum}`);
    }
    print(`pwm pin=${this.pin} duty=${value}`);
  }

  close() {}
}

export { PWM as default };
