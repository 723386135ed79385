/**
 * Alerts over time, stacked by severity, one bar per bucket. Loaded on its own (recharts is most of the UI's
 * weight) when the overview first shows it.
 */
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { OverviewResponse, Severity } from '../api/types.ts';

const colours: Record<Severity, string> = {
  critical: 'var(--sev-critical)',
  high: 'var(--sev-high)',
  medium: 'var(--sev-medium)',
  low: 'var(--sev-low)',
  info: 'var(--sev-info)',
};
const stackOrder: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export default function AlertsChart({ alerts }: { alerts: OverviewResponse['alerts'] }) {
  const daily = alerts.bucketMs >= 6 * 3_600_000;
  const label = (iso: string) =>
    new Date(iso).toLocaleString('en', daily ? { month: 'short', day: 'numeric', hour: '2-digit' } : { hour: '2-digit', minute: '2-digit' });
  return (
    <div className="chart" data-testid="alerts-chart">
      <ResponsiveContainer width="100%" height={220}>
        <BarChart data={alerts.series} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid vertical={false} stroke="var(--border)" />
          <XAxis dataKey="at" tickFormatter={label} tick={{ fontSize: 11, fill: 'var(--text-muted)' }} tickLine={false} axisLine={false} minTickGap={24} />
          <YAxis allowDecimals={false} tick={{ fontSize: 11, fill: 'var(--text-muted)' }} tickLine={false} axisLine={false} />
          <Tooltip
            cursor={{ fill: 'var(--hover)' }}
            labelFormatter={(value) => new Date(String(value)).toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short' })}
            contentStyle={{ background: 'var(--surface)', border: '1px solid var(--border)', borderRadius: 8, fontSize: 12 }}
          />
          {stackOrder.map((severity) => (
            <Bar key={severity} dataKey={severity} stackId="alerts" fill={colours[severity]} isAnimationActive={false} maxBarSize={28} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
