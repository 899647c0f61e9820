/**
 * Typed widgets for a CloudWatch dashboard body. A dashboard is
 * built from these, never from JSON glued by hand: a metric line names its
 * namespace, metric and dimensions (resolved from the resource it watches), and
 * `dashboardBody` lays the rows out on CloudWatch's 24-column grid.
 * The body format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 */
import * as pulumi from "@pulumi/pulumi";

export type Statistic = "Average" | "Sum" | "Minimum" | "Maximum" | "SampleCount" | `p${number}`;

/** One graphed metric: its dimensions come from the resource it watches. */
export interface MetricLine {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, pulumi.Input<string>>>;
  /** The widget's statistic unless given. */
  readonly stat?: Statistic;
  readonly label: string;
  /** Metrics published elsewhere (CloudFront, Route53: us-east-1). Default: the widget's region. */
  readonly region?: string;
}

export interface MetricWidget {
  readonly type: "metric";
  readonly title: string;
  readonly lines: readonly MetricLine[];
  readonly stat: Statistic;
  /** Default: the dashboard's region. */
  readonly region?: string;
  /** Default 6 (of 24 columns). */
  readonly width?: number;
  readonly height?: number;
  readonly yAxisMin?: number;
  readonly yAxisMax?: number;
}

export interface AlarmStatusWidget {
  readonly type: "alarm";
  readonly title: string;
  readonly alarmArns: readonly pulumi.Input<string>[];
  readonly width?: number;
  readonly height?: number;
}

export type Widget = MetricWidget | AlarmStatusWidget;

export interface DashboardDefaults {
  /** Where metric widgets read unless a widget or line says otherwise. */
  readonly region: string;
  /** Seconds each graph point aggregates. */
  readonly periodSeconds: number;
}

const GRID_COLUMNS = 24;
const DEFAULT_WIDTH = 6;
const DEFAULT_HEIGHT = 6;

/** A metric widget whose lines share a statistic (each line may override it). */
export function metricWidget(
  title: string,
  stat: Statistic,
  lines: readonly MetricLine[],
  extra: Partial<Omit<MetricWidget, "type" | "title" | "stat" | "lines">> = {},
): MetricWidget {
  return { type: "metric", title, stat, lines, ...extra };
}

export function alarmStatusWidget(
  title: string,
  alarmArns: readonly pulumi.Input<string>[],
  extra: Partial<Pick<AlarmStatusWidget, "width" | "height">> = {},
): AlarmStatusWidget {
  return { type: "alarm", title, alarmArns, ...extra };
}

/**
 * The dashboard body as JSON: rows top to bottom, widgets left to right. A row
 * wider than the grid is refused (CloudWatch would wrap it unpredictably), and
 * an empty widget (no line, no alarm) is refused: a graph that can show nothing
 * is a mistake, not a placeholder.
 */
export function dashboardBody(
  rows: readonly (readonly Widget[])[],
  defaults: DashboardDefaults,
): pulumi.Output<string> {
  const widgets: unknown[] = [];
  let y = 0;
  for (const row of rows.filter((r) => r.length > 0)) {
    let x = 0;
    let rowHeight = 0;
    for (const widget of row) {
      const width = widget.width ?? DEFAULT_WIDTH;
      const height = widget.height ?? DEFAULT_HEIGHT;
      if (x + width > GRID_COLUMNS)
        throw new Error(`dashboard: the row with "${widget.title}" is wider than ${GRID_COLUMNS} columns`);
      widgets.push({ type: widget.type, x, y, width, height, properties: properties(widget, defaults) });
      x += width;
      rowHeight = Math.max(rowHeight, height);
    }
    y += rowHeight;
  }
  return pulumi.output({ widgets }).apply((body) => JSON.stringify(body));
}

function properties(widget: Widget, defaults: DashboardDefaults): Record<string, unknown> {
  switch (widget.type) {
    case "alarm":
      if (widget.alarmArns.length === 0) throw new Error(`dashboard: the alarm widget "${widget.title}" has no alarm`);
      return { title: widget.title, alarms: widget.alarmArns };
    case "metric": {
      if (widget.lines.length === 0) throw new Error(`dashboard: the widget "${widget.title}" has no metric`);
      const region = widget.region ?? defaults.region;
      const yAxis =
        widget.yAxisMin !== undefined || widget.yAxisMax !== undefined
          ? { yAxis: { left: { min: widget.yAxisMin, max: widget.yAxisMax } } }
          : {};
      return {
        title: widget.title,
        view: "timeSeries",
        stacked: false,
        region,
        period: defaults.periodSeconds,
        stat: widget.stat,
        metrics: widget.lines.map((line) => metricArray(line, region)),
        ...yAxis,
      };
    }
  }
}

/** `[namespace, metric, dim1, value1, ..., { label, stat?, region? }]`, CloudWatch's metric array. */
function metricArray(line: MetricLine, widgetRegion: string): unknown[] {
  const options: Record<string, string> = { label: line.label };
  if (line.stat) options.stat = line.stat;
  if (line.region && line.region !== widgetRegion) options.region = line.region;
  return [line.namespace, line.metricName, ...Object.entries(line.dimensions).flat(), options];
}
