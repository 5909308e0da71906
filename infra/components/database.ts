/**
 * Cloud SQL for PostgreSQL: the experiment tracker and registry index. Private IP only, TLS
 * required, IAM database authentication (no passwords anywhere), backups with point-in-time
 * recovery, connection logging. Service accounts log in as IAM users through the Cloud SQL
 * connector (`@google-cloud/cloud-sql-connector`, `ipType: PRIVATE`, `authType: IAM`).
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions } from './child-options.ts';

/** Cloud SQL names an IAM service-account user by its email without `.gserviceaccount.com`. */
export function iamDatabaseUser(email: string): string {
  return email.replace(/\.gserviceaccount\.com$/, '');
}

export interface DatabaseIamUser {
  /** Actor name (`control-api`, …): names the Pulumi resource, so reordering the list replaces nothing. */
  actor: string;
  /** Service account email that logs in with IAM database authentication. */
  email: pulumi.Input<string>;
  /**
   * Database roles granted at creation. The migrating actor needs `cloudsqlsuperuser` to create
   * tables (PostgreSQL 15+ removed CREATE on `public` from ordinary users); others get none here and
   * receive table privileges from the migrations.
   */
  databaseRoles?: pulumi.Input<pulumi.Input<string>[]>;
}

export interface DatabaseArgs {
  /** Project of the instance. */
  project: pulumi.Input<string>;
  /** Region of the instance (same as the functions that connect to it). */
  region: pulumi.Input<string>;
  /** Short prefix shared by the stack's resource names. */
  namePrefix: string;
  /** VPC the private IP is allocated in (needs private services access first). */
  network: pulumi.Input<string>;
  /** Machine tier, e.g. `db-custom-1-3840`. */
  tier: pulumi.Input<string>;
  /** `POSTGRES_<major>`. */
  databaseVersion: pulumi.Input<string>;
  /** Name of the application database. */
  databaseName: pulumi.Input<string>;
  /** REGIONAL (HA failover replica) instead of ZONAL. */
  highAvailability?: pulumi.Input<boolean>;
  /** Refuse to delete the instance, both in Pulumi and in the Cloud SQL API. */
  deletionProtection: boolean;
  /** Automated backups kept (count). */
  backupRetainedCount: pulumi.Input<number>;
  /** Days of write-ahead log kept for point-in-time recovery. */
  transactionLogRetentionDays: pulumi.Input<number>;
  /** Service accounts that get an IAM database user. */
  iamUsers: DatabaseIamUser[];
}

export class Database extends pulumi.ComponentResource {
  readonly instance: gcp.sql.DatabaseInstance;
  readonly database: gcp.sql.Database;
  /** `project:region:instance`, what the connector takes. */
  readonly connectionName: pulumi.Output<string>;
  readonly users: gcp.sql.User[];

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('droptune:database:Database', name, {}, opts);
    const child = (extra?: pulumi.CustomResourceOptions) => childOptions(this, opts, extra);

    this.instance = new gcp.sql.DatabaseInstance(
      `${name}-instance`,
      {
        project: args.project,
        name: `${args.namePrefix}-db`,
        region: args.region,
        databaseVersion: args.databaseVersion,
        deletionProtection: args.deletionProtection,
        settings: {
          // PostgreSQL 16+ defaults to Enterprise Plus, which rejects db-custom tiers and costs more.
          edition: 'ENTERPRISE',
          tier: args.tier,
          availabilityType: pulumi.output(args.highAvailability).apply((ha) => (ha ? 'REGIONAL' : 'ZONAL')),
          deletionProtectionEnabled: args.deletionProtection,
          diskAutoresize: true,
          ipConfiguration: {
            ipv4Enabled: false,
            privateNetwork: args.network,
            // Every connection encrypted; the connector's mTLS and psql with sslmode=require both qualify.
            sslMode: 'ENCRYPTED_ONLY',
          },
          backupConfiguration: {
            enabled: true,
            pointInTimeRecoveryEnabled: true,
            startTime: '03:00',
            transactionLogRetentionDays: args.transactionLogRetentionDays,
            backupRetentionSettings: { retainedBackups: args.backupRetainedCount, retentionUnit: 'COUNT' },
          },
          databaseFlags: [
            { name: 'cloudsql.iam_authentication', value: 'on' },
            { name: 'log_connections', value: 'on' },
            { name: 'log_disconnections', value: 'on' },
          ],
          maintenanceWindow: { day: 7, hour: 4, updateTrack: 'stable' },
          insightsConfig: { queryInsightsEnabled: true },
        },
      },
      child(),
    );
    this.database = new gcp.sql.Database(
      `${name}-database`,
      { project: args.project, instance: this.instance.name, name: args.databaseName },
      child(),
    );
    this.users = args.iamUsers.map(
      (u) =>
        new gcp.sql.User(
          `${name}-user-${u.actor}`,
          {
            project: args.project,
            instance: this.instance.name,
            name: pulumi.output(u.email).apply(iamDatabaseUser),
            type: 'CLOUD_IAM_SERVICE_ACCOUNT',
            databaseRoles: u.databaseRoles,
            // PostgreSQL refuses to drop a user that owns objects; abandon it with the instance instead.
            deletionPolicy: 'ABANDON',
          },
          child(),
        ),
    );
    this.connectionName = this.instance.connectionName;
    this.registerOutputs({ connectionName: this.connectionName, database: this.database.name });
  }
}
