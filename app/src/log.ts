// Structured logging: one JSON object per line on stdout (CloudWatch/awslogs friendly).
export type Level = "debug" | "info" | "warn" | "error";

export type LogFields = Record<string, unknown>;

export interface Logger {
  (level: Level, msg: string, fields?: LogFields): void;
}

export function createLogger(write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  return (level, msg, fields = {}) => {
    const record = { time: new Date().toISOString(), level, msg, ...fields };
    write(JSON.stringify(record) + "\n");
  };
}
