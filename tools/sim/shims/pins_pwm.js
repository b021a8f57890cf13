// Host simulation shim of Moddable's "pins/pwm" module: write(value) prints
// "pwm pin=<pin> duty=<value>". On ESP32 the value is 0 to 1023 (10 bits).
class PWM {
  constructor(dictionary) {
    this.pin = dictionary.pin;
  }

  write(value) {
    print(`pwm pin=${this.pin} duty=${value}`);
  }

  close() {}
}

export { PWM as default };
