/** A misuse of the control API; over HTTP it becomes this status with `{error}`. */
export class SimulatorControlError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
    this.name = 'SimulatorControlError';
  }
}
