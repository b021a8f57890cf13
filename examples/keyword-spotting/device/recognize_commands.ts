// Turns the stream of per-inference scores into commands, with the semantics of
// the RecognizeCommands class of TFLM's micro_speech example (written anew here):
// - every result is kept with its time, and results older than the averaging window
//   are dropped;
// - with fewer than `minimumCount` results, or results spanning less than a quarter
//   of the window, nothing is decided yet;
// - otherwise each label's score (int8 + 128, so 0..255) is averaged over the window
//   with integer division, and the first label with the highest average wins;
// - a winner is reported as new when its average is above `detectionThreshold` and
//   it differs from the previous reported label, or the same label was reported more
//   than `suppressionMs` ago. While the previous label is the first one (silence),
//   the suppression time does not apply.
// All storage is allocated in the constructor; process() allocates nothing.

export interface RecognizerSettings {
  /** Length of the window of results whose scores are averaged, in ms. */
  averageWindowMs: number;
  /** Average score (0..255) that a label must exceed to be reported. */
  detectionThreshold: number;
  /** Time after a report during which the same label is not reported again, in ms. */
  suppressionMs: number;
  /** Minimum number of results in the window for an average to count. */
  minimumCount: number;
}

/** Maximum number of results kept (TFLM's kMaxResults); a new result beyond it is dropped. */
const MAX_RESULTS = 50;

export class RecognizeCommands {
  /** Label of the last result of process(). */
  foundCommand: string;
  /** Average score (0..255) of foundCommand, 0 while too few results are in the window. */
  score = 0;
  /** Whether the last result of process() is a newly recognized command. */
  isNewCommand = false;

  private readonly labels: readonly string[];
  private readonly settings: RecognizerSettings;
  private readonly times = new Int32Array(MAX_RESULTS);
  private readonly scores: Int8Array;
  private readonly averages: Int32Array;
  private front = 0;
  private size = 0;
  private previousTopLabel: string;
  private previousTopLabelTime = 0;
  private hasPreviousTop = false;

  constructor(labels: readonly string[], settings: RecognizerSettings) {
    if (labels.length === 0) throw new Error("RecognizeCommands: give at least one label; the first one stands for silence");
    this.labels = labels;
    this.settings = settings;
    this.scores = new Int8Array(MAX_RESULTS * labels.length);
    this.averages = new Int32Array(labels.length);
    this.previousTopLabel = labels[0];
    this.foundCommand = labels[0];
  }

  /**
   * Adds the scores of one inference (int8, one per label) made at `timeMs`, and sets
   * foundCommand, score and isNewCommand.
   */
  process(latest: Int8Array, timeMs: number): void {
    const count = this.labels.length;
    if (latest.length !== count) {
      throw new Error(`RecognizeCommands: got ${latest.length} scores for ${count} labels; pass the model's output tensor`);
    }
    if (this.size > 0 && timeMs < this.times[this.front]) {
      throw new Error(`RecognizeCommands: result at ${timeMs} ms is older than the oldest kept (${this.times[this.front]} ms); feed results in time order`);
    }

    // Keep the new result. Like TFLM, a full queue drops it, which happens when the
    // window spans more than MAX_RESULTS inferences: shorten it or invoke less often.
    if (this.size < MAX_RESULTS) {
      let back = this.front + this.size;
      if (back >= MAX_RESULTS) back -= MAX_RESULTS;
      this.times[back] = timeMs;
      for (let i = 0; i < count; i++) this.scores[back * count + i] = latest[i];
      this.size++;
    }

    // Drop results that fell out of the averaging window.
    const oldest = timeMs - this.settings.averageWindowMs;
    while (this.size > 0 && this.times[this.front] < oldest) {
      this.front = this.front + 1 === MAX_RESULTS ? 0 : this.front + 1;
      this.size--;
    }

    if (this.size < this.settings.minimumCount || timeMs - this.times[this.front] < this.settings.averageWindowMs / 4) {
      this.foundCommand = this.previousTopLabel;
      this.score = 0;
      this.isNewCommand = false;
      return;
    }

    const averages = this.averages;
    averages.fill(0);
    for (let k = 0, index = this.front; k < this.size; k++) {
      for (let i = 0; i < count; i++) averages[i] += this.scores[index * count + i] + 128;
      index = index + 1 === MAX_RESULTS ? 0 : index + 1;
    }
    let topIndex = 0;
    let topScore = 0;
    for (let i = 0; i < count; i++) {
      averages[i] = Math.trunc(averages[i] / this.size);
      if (averages[i] > topScore) {
        topScore = averages[i];
        topIndex = i;
      }
    }
    const topLabel = this.labels[topIndex];

    const sinceLastTop =
      this.previousTopLabel === this.labels[0] || !this.hasPreviousTop ? Infinity : timeMs - this.previousTopLabelTime;
    if (topScore > this.settings.detectionThreshold && (topLabel !== this.previousTopLabel || sinceLastTop > this.settings.suppressionMs)) {
      this.previousTopLabel = topLabel;
      this.previousTopLabelTime = timeMs;
      this.hasPreviousTop = true;
      this.isNewCommand = true;
    } else {
      this.isNewCommand = false;
    }
    this.foundCommand = topLabel;
    this.score = topScore;
  }
}
