// Shared helpers for the benchmarks under bench/: timing, results CSV, tables, SVG charts, inputs.

export { measure, rate, summarize, type Timing, type TimingOptions } from './timing.js';
export { appendResult, benchDir, dataDir, machineInfo, resultsDir, runTimestamp, type CsvValue, type MachineInfo } from './results.js';
export { formatTable, grouped } from './table.js';
export { barChartSvg, decadeTicks, escapeXml, lineChartSvg, niceTicks, type Bar, type BarChart, type LineChart, type Series } from './svg.js';
export { benchPython, generatedLog, type GeneratedLog } from './data.js';
