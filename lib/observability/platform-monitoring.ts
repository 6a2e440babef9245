import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sns from 'aws-cdk-lib/aws-sns';
import {
  DefaultDashboardFactory, MonitoringFacade, NoopAlarmActionStrategy, SnsAlarmActionStrategy,
} from 'cdk-monitoring-constructs';
import type { CustomMetricGroup, CustomThreshold } from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { acknowledge } from '../compliance';
import type { Severity } from '../spec';
import type { AwsAlarmDefinition, AwsAlarmGroup } from './aws-alarms';
import { runbookLink } from './runbooks';

export interface PlatformMonitoringProps {
  /** `<project>-<env>`: alarm and dashboard names start with it. */
  readonly namePrefix: string;
  readonly groups: readonly AwsAlarmGroup[];
  readonly topics: Readonly<Record<Severity, sns.ITopic>>;
  /** A Markdown note at the top of the dashboard (where the rest of the signals live). */
  readonly dashboardNote: string;
}

/** The tag that gathers an area's critical alarms under its composite alarm. */
const compositeTag = (area: string) => `composite:${area}`;

/**
 * The alarms and the one dashboard of an environment, built with cdk-monitoring-constructs from
 * the alarm groups: each alarm notifies its severity's topic (on alarm and on recovery) and
 * carries its runbook link. Where an area has more than one critical alarm, one failure (the
 * database writer, the gateway, Vault) tends to fire several: those children notify nobody and
 * one composite alarm per area pages once, naming the children that fired.
 */
export class PlatformMonitoring extends Construct {
  readonly facade: MonitoringFacade;
  /** Every alarm by its definition id. */
  readonly alarms: ReadonlyMap<string, cloudwatch.AlarmBase>;
  readonly composites: ReadonlyMap<string, cloudwatch.CompositeAlarm>;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PlatformMonitoringProps) {
    super(scope, id);
    const notify = (severity: Severity) => new SnsAlarmActionStrategy({ onAlarmTopic: props.topics[severity], onOkTopic: props.topics[severity] });
    const dashboards = new DefaultDashboardFactory(this, 'Dashboards', {
      dashboardNamePrefix: props.namePrefix,
      createDashboard: true,
      createSummaryDashboard: false,
      createAlarmDashboard: false,
    });
    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: props.namePrefix,
        actionsEnabled: true,
        disambiguatorAction: { critical: notify('critical'), warning: notify('warning') },
      },
      metricFactoryDefaults: {},
      dashboardFactory: dashboards,
    });
    this.facade.addLargeHeader(`${props.namePrefix}`).addWidget(markdown(props.dashboardNote));

    const ids = new Set<string>();
    const composed = new Set<string>();
    for (const group of props.groups) {
      const critical = group.alarms.filter((a) => a.severity === 'critical');
      const withComposite = critical.length > 1;
      if (withComposite) composed.add(group.area);
      const metricGroups: CustomMetricGroup[] = group.alarms.map((alarm) => {
        if (ids.has(alarm.id)) throw new Error(`observability: two alarms with id ${alarm.id}`);
        ids.add(alarm.id);
        const threshold: CustomThreshold = {
          threshold: alarm.threshold,
          comparisonOperator: alarm.comparison,
          treatMissingDataOverride: alarm.treatMissingData,
          evaluationPeriods: alarm.periods,
          datapointsToAlarm: alarm.periods,
          alarmNameOverride: `${props.namePrefix}-${alarm.id}`,
          alarmDescriptionOverride: alarm.description,
          runbookLink: runbookLink(group.area, alarm.id),
          ...(withComposite && alarm.severity === 'critical'
            ? { actionOverride: new NoopAlarmActionStrategy(), customTags: [compositeTag(group.area)] }
            : {}),
        };
        return {
          title: alarm.id,
          metrics: [{ metric: alarm.metric, alarmFriendlyName: alarm.id, addAlarm: { [alarm.severity]: threshold } }],
        };
      });
      for (const graph of group.graphs ?? []) {
        metricGroups.push({ title: graph.title, metrics: [...graph.metrics] as never[] });
      }
      this.facade.monitorCustom({ alarmFriendlyName: group.area, humanReadableName: group.title, metricGroups });
    }

    const composites = new Map<string, cloudwatch.CompositeAlarm>();
    for (const area of composed) {
      const composite = this.facade.createCompositeAlarmUsingTag(compositeTag(area), {
        disambiguator: 'critical',
        alarmNameOverride: `${props.namePrefix}-${area}-critical`,
        alarmDescription: `One or more critical ${area} alarms fired (the alarm rule names them); often one failure behind several`,
        runbookLink: runbookLink(area as AwsAlarmGroup['area'], `${area}-critical`),
        actionOverride: notify('critical'),
      });
      if (!composite) continue;
      composites.set(area, composite);
      for (const child of this.facade.createdAlarmsWithTag(compositeTag(area))) {
        acknowledge(child.alarm, 'NIST.800.53.R5-CloudWatchAlarmAction',
          `Part of the composite alarm ${props.namePrefix}-${area}-critical, which notifies the critical topic; this alarm notifies nobody itself so that one failure pages once.`);
      }
    }
    this.composites = composites;
    this.alarms = new Map(this.facade.createdAlarms().map((a) => [a.alarmNameSuffix, a.alarm]));
    const dashboard = dashboards.dashboard;
    if (!dashboard) throw new Error('observability: the dashboard factory created no dashboard');
    this.dashboard = dashboard;
  }
}

function markdown(text: string): cloudwatch.IWidget {
  return new cloudwatch.TextWidget({ markdown: text, width: 24, height: 3 });
}

/** The definitions a test or the docs can list: id, severity and runbook of every alarm. */
export function alarmIndex(groups: readonly AwsAlarmGroup[]): Array<AwsAlarmDefinition & { readonly area: AwsAlarmGroup['area'] }> {
  return groups.flatMap((g) => g.alarms.map((a) => ({ ...a, area: g.area })));
}
