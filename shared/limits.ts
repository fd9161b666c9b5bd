/**
 * Hard limits on what the coordinator accepts. They keep one request from exhausting
 * the coordinator; each violation is answered with an error that names the limit.
 */
export const LIMITS = {
  /** Longest job name, in characters. */
  nameChars: 200,
  /** Largest job module source, in characters. */
  sourceChars: 1024 * 1024,
  /** Most files in a `texts` input. */
  files: 10_000,
  /** Longest file name, in characters. */
  fileNameChars: 1024,
  /** Most records in a `records` input. */
  records: 10_000_000,
  /** Widest `range` input (to - from). */
  rangeSize: 1_000_000_000,
  /**
   * Most map tasks one job may have. Each costs the coordinator memory while it plans and
   * holds the job: a 250,000-task range peaked it at 337 MB (VmHWM) when every task had a
   * record from the start, a 1,000,000-task one at 1.4 GB; since task records are made
   * when first leased, submitting that range costs about 8 MB (110 MB peak in all), the
   * records coming as the job runs.
   */
  mapTasks: 250_000,
  /** Most reduce tasks one job may have. */
  reducers: 1024,
  /** Smallest and largest `splitBytes`. */
  minSplitBytes: 1024,
  maxSplitBytes: 256 * 1024 * 1024,
  /** Most records per map task. */
  recordsPerTask: 10_000_000,
  /** Most attempts a task may be given. */
  maxAttempts: 20,
  /** Most worker slots one volunteer may announce. */
  slotsPerVolunteer: 64,
  /** Most tasks one `task:request` may ask for. */
  tasksPerRequest: 64,
  /**
   * Most tasks one batched message may name: claimed by `tasks:claim` (or a report's
   * `next`), answered by `tasks:report`, renewed by `task:renew` or given back by
   * `task:return`. It bounds what a volunteer may hold, so one renewal covers it all.
   */
  tasksPerMessage: 4096,
  /** Longest key, in characters of its canonical form (a string key: its length). */
  keyChars: 64 * 1024,
  /** Longest error message and stack a volunteer may report, in characters. */
  errorMessageChars: 10_000,
  errorStackChars: 20_000,
} as const;
