/**
 * A small model on a generated data set: two noisy 2-D clusters, a logistic regression trained by
 * gradient descent, evaluated on a held-out split, for each parameter set; then an aggregate stage
 * compares them. Run it with `pnpm example:pipeline` (or see docs/pipeline.md).
 *
 * Each stage names the parameters it uses: the three sets share one data set and one split (made
 * once), and changing a training parameter reruns only training and evaluation of that set.
 */
import { aggregate, cachers, defineExperiment, notHashed, stage } from "labbook";
import { z } from "zod";

export const parameters = z.object({
  samples: z.number().int().min(10),
  noise: z.number().min(0),
  seed: z.number().int(),
  lr: z.number().positive(),
  epochs: z.number().int().min(1),
  l2: z.number().min(0).default(0),
  /** How often to print while training: does not change results, so it is not part of the hash. */
  logEvery: notHashed(z.number().int().min(1).default(10)),
});
export type Params = z.output<typeof parameters>;

interface Dataset {
  x: number[][];
  y: number[];
}
interface Model {
  w: number[];
  b: number;
}
interface Scores {
  accuracy: number;
  loss: number;
}

/** mulberry32: a tiny seeded generator, so the data set is the same for the same seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const round = (v: number) => Math.round(v * 1e6) / 1e6;

function logLoss(model: Model, data: Dataset): number {
  let total = 0;
  data.x.forEach((row, i) => {
    const p = Math.min(1 - 1e-9, Math.max(1e-9, sigmoid(row[0]! * model.w[0]! + row[1]! * model.w[1]! + model.b)));
    total += data.y[i] === 1 ? -Math.log(p) : -Math.log(1 - p);
  });
  return total / data.x.length;
}

const makeData = stage<Record<string, never>, { data: Dataset }, Params>(
  { name: "make_data", outputs: ["data"], cachers: [cachers.json()], uses: ["samples", "noise", "seed"] },
  (_inputs, record) => {
    const { samples, noise, seed } = record.params;
    const rand = random(seed);
    const x: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < samples; i++) {
      const label = i % 2;
      const center = label === 1 ? [1, 1] : [-1, -1];
      x.push([round(center[0]! + gaussian(rand) * (0.5 + noise)), round(center[1]! + gaussian(rand) * (0.5 + noise))]);
      y.push(label);
    }
    return { data: { x, y } };
  },
);

const split = stage<{ data: Dataset }, { train: Dataset; test: Dataset }, Params>(
  { name: "split", inputs: ["data"], outputs: ["train", "test"], cachers: [cachers.json(), cachers.json()], uses: [] },
  ({ data }) => {
    const cut = Math.floor(data.x.length * 0.75);
    return {
      train: { x: data.x.slice(0, cut), y: data.y.slice(0, cut) },
      test: { x: data.x.slice(cut), y: data.y.slice(cut) },
    };
  },
);

const train = stage<{ train: Dataset }, { model: Model; losses: number[] }, Params>(
  {
    name: "train",
    inputs: ["train"],
    outputs: ["model", "losses"],
    cachers: [cachers.json(), cachers.json()],
    artifacts: ["model"],
    uses: ["lr", "epochs", "l2"],
  },
  ({ train }, record) => {
    const { lr, epochs, l2 } = record.params;
    const model: Model = { w: [0, 0], b: 0 };
    const losses: number[] = [];
    for (let epoch = 0; epoch < epochs; epoch++) {
      const grad = [0, 0, 0];
      train.x.forEach((row, i) => {
        const err = sigmoid(row[0]! * model.w[0]! + row[1]! * model.w[1]! + model.b) - train.y[i]!;
        grad[0]! += err * row[0]!;
        grad[1]! += err * row[1]!;
        grad[2]! += err;
      });
      const n = train.x.length;
      model.w = [model.w[0]! - lr * (grad[0]! / n + l2 * model.w[0]!), model.w[1]! - lr * (grad[1]! / n + l2 * model.w[1]!)];
      model.b -= lr * (grad[2]! / n);
      losses.push(round(logLoss(model, train)));
    }
    model.w = model.w.map(round);
    model.b = round(model.b);
    record.report({ kind: "line", title: `training loss (${record.name})`, series: { loss: losses }, xLabel: "epoch", yLabel: "log loss" });
    return { model, losses };
  },
);

const evaluate = stage<{ model: Model; test: Dataset }, { scores: Scores }, Params>(
  { name: "evaluate", inputs: ["model", "test"], outputs: ["scores"], cachers: [cachers.json()], uses: [] },
  ({ model, test }, record) => {
    let correct = 0;
    test.x.forEach((row, i) => {
      const p = sigmoid(row[0]! * model.w[0]! + row[1]! * model.w[1]! + model.b);
      if ((p >= 0.5 ? 1 : 0) === test.y[i]) correct++;
    });
    const scores = { accuracy: round(correct / test.x.length), loss: round(logLoss(model, test)) };
    record.report({ kind: "table", title: "test scores", rows: [scores] });
    return { scores };
  },
);

/** Per-record metrics come from the scores, whether they were computed now or read from the cache. */
const metrics = stage<{ scores: Scores }, Record<string, never>, Params>({ name: "metrics", inputs: ["scores"] }, ({ scores }, record) => {
  record.logMetric("accuracy", scores.accuracy);
  record.logMetric("test_loss", scores.loss);
  return {};
});

const compare = aggregate<{ scores: Scores; losses: number[] }, { comparison: Array<Record<string, number | string>>; best: string }, Params>(
  { name: "compare", inputs: ["scores", "losses"], outputs: ["comparison", "best"], cachers: [cachers.json(), cachers.json()], artifacts: ["comparison"] },
  (records, record) => {
    const comparison = records.map((r) => ({ name: r.name, lr: r.params.lr, l2: r.params.l2, accuracy: r.values.scores.accuracy, loss: r.values.scores.loss }));
    const best = [...comparison].sort((a, b) => b.accuracy - a.accuracy || a.loss - b.loss)[0]?.name ?? "";
    record.report({ kind: "bar", title: "test accuracy", bars: Object.fromEntries(comparison.map((c) => [c.name, c.accuracy])), yLabel: "accuracy" });
    record.report({ kind: "line", title: "training loss", series: Object.fromEntries(records.map((r) => [r.name, r.values.losses])), xLabel: "epoch" });
    record.report({ kind: "text", title: "best", text: `${best} has the best test accuracy` });
    return { comparison, best };
  },
);

const summary = aggregate<{ scores: Scores }, Record<string, never>, Params>({ name: "summary", inputs: ["scores"] }, (records, record) => {
  record.logMetric("best_accuracy", Math.max(...records.map((r) => r.values.scores.accuracy)));
  return {};
});

export default defineExperiment({
  name: "toy-classifier",
  description: "Logistic regression on two generated clusters, three learning settings compared.",
  parameters,
  stages: [makeData, split, train, evaluate, metrics],
  aggregates: [compare, summary],
});
