/**
 * Typed widgets for a CloudWatch dashboard body. A dashboard is
 * built from these, never from JSON glued by hand: a metric line names its
 * namespace, metric and dimensions (resolved from the resource it watches), and
 * `dashboardBody` lays the rows out on CloudWatch's 24-column grid.
 * The body format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 */
import * as pulumi from "@pulumi/pulumi";
import type { MonitoringConfig } from "../../config/monitoring";

/** A CloudWatch statistic: `Average`, `Sum`... or a percentile, `p90`. */
export type Statistic = "Average" | "Sum" | "Minimum" | "Maximum" | "SampleCount" | `p${number}`;

/** One graphed metric: its dimensions come from the resource it watches. */
export interface MetricLine {
  /** The metric's namespace: `AWS/ECS`. */
  readonly namespace: string;
  /** The metric: `CPUUtilization`. */
  readonly metricName: string;
  /** The metric's dimensions, from the watched resource's outputs; `{}` for a log metric. */
  readonly dimensions: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * This line's statistic.
   * @default the widget's `stat`
   */
  readonly stat?: Statistic;
  /** The line's legend. */
  readonly label: string;
  /**
   * Where the metric is published, for metrics published elsewhere (CloudFront, Route53: us-east-1).
   * @default the widget's region
   */
  readonly region?: string;
}

/** A time-series graph of one or more metric lines. */
export interface MetricWidget {
  readonly type: "metric";
  /** The graph's title. */
  readonly title: string;
  /** What it graphs: at least one line. */
  readonly lines: readonly MetricLine[];
  /** The statistic of every line that names none. */
  readonly stat: Statistic;
  /**
   * Where its metrics are read.
   * @default the dashboard's region
   */
  readonly region?: string;
  /**
   * Columns of the 24-column grid.
   * @default 6
   */
  readonly width?: number;
  /**
   * Grid rows.
   * @default 6
   */
  readonly height?: number;
  /**
   * The left axis' lower bound.
   * @default CloudWatch's (fitted to the data)
   */
  readonly yAxisMin?: number;
  /**
   * The left axis' upper bound.
   * @default CloudWatch's (fitted to the data)
   */
  readonly yAxisMax?: number;
}

/** The state of some alarms (OK, ALARM, INSUFFICIENT_DATA), one tile each. */
export interface AlarmStatusWidget {
  readonly type: "alarm";
  /** The widget's title. */
  readonly title: string;
  /** The alarms shown: at least one. */
  readonly alarmArns: readonly pulumi.Input<string>[];
  /**
   * Columns of the 24-column grid.
   * @default 6
   */
  readonly width?: number;
  /**
   * Grid rows.
   * @default 6
   */
  readonly height?: number;
}

export type Widget = MetricWidget | AlarmStatusWidget;

/** What every widget of a dashboard shares unless it says otherwise. */
export interface DashboardDefaults {
  /** Where metric widgets read unless a widget or line says otherwise. */
  readonly region: string;
  /** Seconds each graph point aggregates (`monitoring.dashboardPeriodSeconds`). */
  readonly periodSeconds: MonitoringConfig["dashboardPeriodSeconds"];
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

/** An alarm status widget of these alarms. */
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
