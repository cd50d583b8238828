// ECharts for the statistics page, only the parts it draws (bars, grid,
// tooltip, legend, canvas). The page imports this module lazily, so ECharts
// is a chunk of its own that no other console page, and never the H5, loads.
import { init, use, type EChartsType } from 'echarts/core';
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, TitleComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { StatsDepartment } from './api';

use([BarChart, GridComponent, LegendComponent, TooltipComponent, TitleComponent, CanvasRenderer]);

const percent = (v: number | null): number | null => (v === null ? null : Math.round(v * 1000) / 10);

/** drawVerifications: each department's verifications, stacked by result. */
export function drawVerifications(el: HTMLElement, rows: StatsDepartment[]): EChartsType {
  const chart = init(el);
  chart.setOption({
    title: { text: '核验次数(按结果)', textStyle: { fontSize: 14 } },
    tooltip: { trigger: 'axis' },
    legend: { bottom: 0 },
    grid: { top: 40, left: 48, right: 16, bottom: 104 },
    xAxis: { type: 'category', data: rows.map((d) => d.name), axisLabel: { interval: 0, rotate: 30 } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: '有效', type: 'bar', stack: 'result', data: rows.map((d) => d.valid), itemStyle: { color: '#2e7d32' } },
      { name: '无效', type: 'bar', stack: 'result', data: rows.map((d) => d.invalid), itemStyle: { color: '#c62828' } },
      { name: '拒绝', type: 'bar', stack: 'result', data: rows.map((d) => d.refused), itemStyle: { color: '#8d6e63' } },
    ],
  });
  return chart;
}

/** drawRates: 同步生成率, 用证率 and 存量电子化进度 per department, in percent. */
export function drawRates(el: HTMLElement, rows: StatsDepartment[]): EChartsType {
  const chart = init(el);
  chart.setOption({
    title: { text: '同步生成率 · 用证率 · 存量电子化进度(%)', textStyle: { fontSize: 14 } },
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (v === null || v === undefined ? '—' : `${String(v)}%`) },
    legend: { bottom: 0 },
    grid: { top: 40, left: 48, right: 16, bottom: 104 },
    xAxis: { type: 'category', data: rows.map((d) => d.name), axisLabel: { interval: 0, rotate: 30 } },
    yAxis: { type: 'value', axisLabel: { formatter: '{value}%' } },
    series: [
      { name: '同步生成率', type: 'bar', data: rows.map((d) => percent(d.sync_rate)) },
      { name: '用证率', type: 'bar', data: rows.map((d) => percent(d.usage_rate)) },
      { name: '存量电子化进度', type: 'bar', data: rows.map((d) => percent(d.stock_progress)) },
    ],
  });
  return chart;
}
