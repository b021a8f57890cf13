// Feeds the model the most recent second of features, as the FeatureProvider of
// TFLM's micro_speech example does. The features arrive as slices: 40 int8 values
// for each 20 ms step of audio. On a device with a microphone each slice would be
// computed from the latest 30 ms of audio. Here the slices come from a recording
// of precomputed slices (a Resource, read in place from flash). The slice of step n
// becomes available once the clock reaches (n + 1) * 20 ms.
//
// The last SLICE_COUNT slices are kept in a ring buffer; copyWindowTo() writes them
// oldest first into the model's input. Before the first slices arrive the ring contains
// the feature value of silence (-128, the smallest int8 value). TFLM starts from 0,
// which this model scores as "no".

export const SLICE_SIZE = 40;
export const SLICE_COUNT = 49;
export const SLICE_STRIDE_MS = 20;
const SILENCE = -128;

export class FeatureProvider {
  /** Slices delivered so far. */
  delivered = 0;
  readonly totalSlices: number;

  private readonly recording: Int8Array;
  private readonly ring = new Int8Array(SLICE_COUNT * SLICE_SIZE);
  /** Ring index of the oldest slice. */
  private oldest = 0;

  constructor(recording: Int8Array) {
    if (recording.length % SLICE_SIZE !== 0) {
      throw new Error(`feature recording has ${recording.length} bytes, not a whole number of ${SLICE_SIZE}-byte slices; rebuild it`);
    }
    this.recording = recording;
    this.totalSlices = recording.length / SLICE_SIZE;
    this.ring.fill(SILENCE);
  }

  /** Whether every slice of the recording has been delivered. */
  get exhausted(): boolean {
    return this.delivered === this.totalSlices;
  }

  /**
   * Moves every slice that is available at `timeMs` (ms since the start) into the
   * ring buffer and returns how many arrived. Slices the caller was too late for
   * still pass through the ring, so that it always contains the latest SLICE_COUNT.
   */
  update(timeMs: number): number {
    const available = Math.min(this.totalSlices, Math.floor(timeMs / SLICE_STRIDE_MS));
    const arriving = available - this.delivered;
    for (let n = this.delivered; n < available; n++) {
      const source = n * SLICE_SIZE;
      const target = this.oldest * SLICE_SIZE;
      for (let i = 0; i < SLICE_SIZE; i++) this.ring[target + i] = this.recording[source + i];
      this.oldest = this.oldest + 1 === SLICE_COUNT ? 0 : this.oldest + 1;
    }
    if (arriving > 0) this.delivered = available;
    return Math.max(0, arriving);
  }

  /** Writes the window, oldest slice first, into `input` (SLICE_COUNT * SLICE_SIZE values). */
  copyWindowTo(input: Int8Array): void {
    const ring = this.ring;
    const split = this.oldest * SLICE_SIZE;
    const length = ring.length;
    let out = 0;
    for (let i = split; i < length; i++) input[out++] = ring[i];
    for (let i = 0; i < split; i++) input[out++] = ring[i];
  }
}
