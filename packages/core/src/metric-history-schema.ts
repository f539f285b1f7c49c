/** The zod schema of the `metric-history` artifact (see metric-history.ts), kept apart so that zod loads only when a history is read. */
import { z } from "zod";

const number = z.custom<number>((v) => typeof v === "number", { message: "expected a number" });

/** One metric's columns. */
export const seriesSchema = z.looseObject({ steps: z.array(number), values: z.array(number), times: z.array(number) });

/** The content of the `metric-history` artifact: columnar, so a chart library takes it as is. */
export const metricHistoryFileSchema = z.looseObject({
  labbook_metric_history: z.literal(1),
  metrics: z.record(z.string(), seriesSchema),
});
