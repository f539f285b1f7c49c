/** Something a stage adds to the run report with `record.report(item)`. */
export type ReportItem =
  | { readonly kind: "text"; readonly title?: string | undefined; readonly text: string }
  | { readonly kind: "table"; readonly title?: string | undefined; readonly rows: ReadonlyArray<Readonly<Record<string, unknown>>> }
  | {
      readonly kind: "line";
      readonly title?: string | undefined;
      /** One line per name; x is 0, 1, ... unless `x` is given. */
      readonly series: Readonly<Record<string, readonly number[]>>;
      readonly x?: readonly number[] | undefined;
      readonly xLabel?: string | undefined;
      readonly yLabel?: string | undefined;
    }
  | { readonly kind: "bar"; readonly title?: string | undefined; readonly bars: Readonly<Record<string, number>>; readonly yLabel?: string | undefined };
