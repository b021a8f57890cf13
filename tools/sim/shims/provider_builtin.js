// Host simulation shim of ECMA-419's "embedded:provider/builtin": a `device` with
// the buses and pins that sensor classes and PWM outputs are given. The I2C and
// SPI entries only carry options: the sensor shims never touch a bus.
import PWM from "embedded:io/pwm";

class Bus {
  constructor(options) {
    this.options = options;
  }

  close() {}
}

const device = {
  io: { I2C: Bus, SMBus: Bus, SPI: Bus, PWM },
  I2C: { default: { io: Bus, data: 21, clock: 22, hz: 400000 } },
  SPI: { default: { io: Bus, out: 23, in: 19, clock: 18 } },
  PWM: { default: { io: PWM, pin: 2 } },
  pin: { led: 2 },
};

export { device as default };
