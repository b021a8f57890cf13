// Synthetic 3-axis accelerometer data set of four hand gestures, generated
// from a seeded PRNG so that every run gives the same windows. The physics
// and the parameter ranges are documented in examples/gesture/DATASET.md;
// keep the two in step.

/** Gesture classes, in the order of the model's outputs. */
export const GESTURE_CLASSES = ["idle", "shake", "tilt", "circle"] as const;
export type GestureClass = (typeof GESTURE_CLASSES)[number];

/** Sample rate of the accelerometer, in Hz. */
export const SAMPLE_RATE_HZ = 50;
/** Samples per window: 1.28 s at 50 Hz. */
export const WINDOW_SAMPLES = 64;
/** Values per window: x, y, z of each sample, sample after sample. */
export const WINDOW_VALUES = WINDOW_SAMPLES * 3;
/** Standard gravity, in m/s^2. */
export const STANDARD_GRAVITY = 9.80665;

/** Seed of the data set that the example model is trained and tested on. */
export const DEFAULT_SEED = 20261205;
export const TRAIN_WINDOWS_PER_CLASS = 600;
export const TEST_WINDOWS_PER_CLASS = 150;

/** Windows of one split: `windows` contains `labels.length` windows of WINDOW_VALUES float32 values in m/s^2. */
export interface GestureSplit {
  windows: Float32Array;
  /** Class index of each window (index into GESTURE_CLASSES). */
  labels: Uint8Array;
}

export interface GestureDataset {
  train: GestureSplit;
  test: GestureSplit;
}

/**
 * Pseudo-random numbers from mulberry32, a 32-bit generator with one word
 * of state: uniform floats in [0, 1) with 32 bits each, and normal values
 * by the Box-Muller transform.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Standard normal (mean 0, standard deviation 1), one Box-Muller value per call. */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, count). */
  integer(count: number): number {
    return Math.floor(this.next() * count);
  }
}

type Vector = [number, number, number];
/** 3x3 rotation matrix, row-major: maps device coordinates to world coordinates. */
type Matrix = [number, number, number, number, number, number, number, number, number];

/** Rotation about the unit axis `axis` by `angle` radians (Rodrigues' formula). */
function axisAngle(axis: Vector, angle: number): Matrix {
  const [x, y, z] = axis;
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const t = 1 - c;
  return [t * x * x + c, t * x * y - s * z, t * x * z + s * y, t * x * y + s * z, t * y * y + c, t * y * z - s * x, t * x * z - s * y, t * y * z + s * x, t * z * z + c];
}

function multiply(a: Matrix, b: Matrix): Matrix {
  const result = new Array<number>(9) as Matrix;
  for (let row = 0; row < 3; row++) {
    for (let column = 0; column < 3; column++) {
      result[row * 3 + column] = a[row * 3] * b[column] + a[row * 3 + 1] * b[3 + column] + a[row * 3 + 2] * b[6 + column];
    }
  }
  return result;
}

/** World vector in device coordinates: the transpose of the device-to-world rotation applied to it. */
function toDevice(rotation: Matrix, v: Vector): Vector {
  return [
    rotation[0] * v[0] + rotation[3] * v[1] + rotation[6] * v[2],
    rotation[1] * v[0] + rotation[4] * v[1] + rotation[7] * v[2],
    rotation[2] * v[0] + rotation[5] * v[1] + rotation[8] * v[2],
  ];
}

/** Uniformly distributed unit vector. */
function randomUnitVector(random: Random): Vector {
  const z = random.uniform(-1, 1);
  const angle = random.uniform(0, 2 * Math.PI);
  const r = Math.sqrt(1 - z * z);
  return [r * Math.cos(angle), r * Math.sin(angle), z];
}

/** Random horizontal unit vector (z = 0 in world coordinates). */
function randomHorizontal(random: Random): Vector {
  const angle = random.uniform(0, 2 * Math.PI);
  return [Math.cos(angle), Math.sin(angle), 0];
}

/**
 * Resting orientation of the device in the hand: any heading (yaw), with
 * pitch and roll up to 35 degrees from flat.
 */
function randomOrientation(random: Random): Matrix {
  const limit = (35 * Math.PI) / 180;
  const yaw = axisAngle([0, 0, 1], random.uniform(0, 2 * Math.PI));
  const pitch = axisAngle([0, 1, 0], random.uniform(-limit, limit));
  const roll = axisAngle([1, 0, 0], random.uniform(-limit, limit));
  return multiply(yaw, multiply(pitch, roll));
}

/**
 * Writes one window of `gesture` at `offset` in `output`. The accelerometer
 * measures specific force, f = R^T (a + g_up), where a is the linear
 * acceleration of the device in world coordinates, g_up = [0, 0, g] and R
 * the device-to-world rotation at that instant; a device lying flat reads
 * [0, 0, +g].
 */
export function generateWindow(random: Random, gesture: GestureClass, output: Float32Array, offset: number): void {
  const orientation = randomOrientation(random);
  const noiseSigma = random.uniform(0.05, 0.2);
  const bias: Vector = [random.normal() * 0.1, random.normal() * 0.1, random.normal() * 0.1];
  const dt = 1 / SAMPLE_RATE_HZ;

  // Hand tremor present in every gesture: a small sinusoid on a random axis.
  const tremorAxis = randomUnitVector(random);
  const tremorAmplitude = random.uniform(0, 0.5);
  const tremorFrequency = random.uniform(4, 10);
  const tremorPhase = random.uniform(0, 2 * Math.PI);

  // Gesture parameters; unused ones are drawn anyway so that each window consumes the same count of random numbers.
  const motionAxis = randomHorizontal(random);
  const amplitude = random.uniform(0, 1);
  const frequency = random.uniform(0, 1);
  const phase = random.uniform(0, 2 * Math.PI);
  const tiltAxis = randomHorizontal(random);
  const tiltAngle = ((random.uniform(20, 90) * Math.PI) / 180) * (random.next() < 0.5 ? -1 : 1);
  const tiltDuration = random.uniform(0.3, 0.7);
  const tiltStart = random.uniform(0.1, WINDOW_SAMPLES * dt - tiltDuration - 0.1);
  const circleVertical = random.next() < 0.5;
  // Slow sway of the hand in every gesture: up to 6 degrees about a horizontal axis at 0.2 to 0.8 Hz.
  const swayAxis = randomHorizontal(random);
  const swayAngle = (random.uniform(0, 6) * Math.PI) / 180;
  const swayFrequency = random.uniform(0.2, 0.8);
  const swayPhase = random.uniform(0, 2 * Math.PI);

  for (let sample = 0; sample < WINDOW_SAMPLES; sample++) {
    const t = sample * dt;
    let rotation = multiply(axisAngle(swayAxis, swayAngle * Math.sin(2 * Math.PI * swayFrequency * t + swayPhase)), orientation);
    const acceleration: Vector = [0, 0, 0];

    switch (gesture) {
      case "idle":
        break;
      case "shake": {
        // Back and forth along a horizontal axis at 2.5 to 6 Hz, peak acceleration 3 to 15 m/s^2.
        const peak = 3 + 12 * amplitude;
        const hz = 2.5 + 3.5 * frequency;
        const value = peak * Math.sin(2 * Math.PI * hz * t + phase);
        for (let axis = 0; axis < 3; axis++) acceleration[axis] += value * motionAxis[axis];
        break;
      }
      case "tilt": {
        // A smooth turn by 20 to 90 degrees about a horizontal axis, over 0.3 to 0.7 s.
        const progress = Math.min(1, Math.max(0, (t - tiltStart) / tiltDuration));
        const eased = 0.5 - 0.5 * Math.cos(Math.PI * progress);
        rotation = multiply(axisAngle(tiltAxis, tiltAngle * eased), rotation);
        break;
      }
      case "circle": {
        // Circles of radius 4 to 15 cm at 0.7 to 1.8 turns per second, in a horizontal or vertical plane.
        const radius = 0.04 + 0.11 * amplitude;
        const omega = 2 * Math.PI * (0.7 + 1.1 * frequency);
        const centripetal = radius * omega * omega;
        const second: Vector = circleVertical ? [0, 0, 1] : [-motionAxis[1], motionAxis[0], 0];
        const c = -centripetal * Math.cos(omega * t + phase);
        const s = -centripetal * Math.sin(omega * t + phase);
        for (let axis = 0; axis < 3; axis++) acceleration[axis] += c * motionAxis[axis] + s * second[axis];
        break;
      }
    }

    const tremor = tremorAmplitude * Math.sin(2 * Math.PI * tremorFrequency * t + tremorPhase);
    const specificForce: Vector = [
      acceleration[0] + tremor * tremorAxis[0],
      acceleration[1] + tremor * tremorAxis[1],
      acceleration[2] + tremor * tremorAxis[2] + STANDARD_GRAVITY,
    ];
    const measured = toDevice(rotation, specificForce);
    for (let axis = 0; axis < 3; axis++) {
      output[offset + sample * 3 + axis] = measured[axis] + bias[axis] + noiseSigma * random.normal();
    }
  }
}

/** Generates `perClass` windows of each class, in an order shuffled with the same generator. */
export function generateSplit(random: Random, perClass: number): GestureSplit {
  const count = perClass * GESTURE_CLASSES.length;
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = i % GESTURE_CLASSES.length;
  for (let i = count - 1; i > 0; i--) {
    const j = random.integer(i + 1);
    const swap = labels[i];
    labels[i] = labels[j];
    labels[j] = swap;
  }
  const windows = new Float32Array(count * WINDOW_VALUES);
  for (let i = 0; i < count; i++) generateWindow(random, GESTURE_CLASSES[labels[i]], windows, i * WINDOW_VALUES);
  return { windows, labels };
}

/** The data set: the training split, then the test split, from one generator seeded with `seed`. */
export function generateDataset(seed = DEFAULT_SEED, trainPerClass = TRAIN_WINDOWS_PER_CLASS, testPerClass = TEST_WINDOWS_PER_CLASS): GestureDataset {
  const random = new Random(seed);
  const train = generateSplit(random, trainPerClass);
  const test = generateSplit(random, testPerClass);
  return { train, test };
}
