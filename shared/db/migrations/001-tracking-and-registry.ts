import { type Kysely, sql } from 'kysely';

/**
 * The tracking & registry schema. Column names are the snake_case of the names used
 * everywhere else (run_id ↔ runId, model_name ↔ modelName, …).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table datasets (
      dataset_id   text primary key,
      model_name   text not null,
      uri          text not null,
      generation   text not null default '',
      sha256       text not null,
      bytes        bigint not null,
      rows         integer not null,
      label_counts jsonb not null,
      text_length  jsonb not null,
      created_at   timestamptz not null default now(),
      unique (uri, generation)
    );

    create table runs (
      run_id             text primary key,
      model_name         text not null,
      dataset_id         text references datasets (dataset_id),
      dataset_uri        text not null,
      dataset_generation text,
      params             jsonb not null default '{}'::jsonb,
      status             text not null check (status in ('queued','validating','provisioning','training','registering',
                                                         'deploying','succeeded','rejected','failed','cancelled','gated')),
      error              text,
      execution_id       text,
      machine            jsonb,
      cost_estimate      double precision,
      version            integer,
      created_at         timestamptz not null default now(),
      updated_at         timestamptz not null default now(),
      started_at         timestamptz,
      finished_at        timestamptz
    );
    create index runs_by_model on runs (model_name, created_at desc);
    create index runs_by_status on runs (status, created_at desc);

    create table run_status_history (
      id          bigserial primary key,
      run_id      text not null references runs (run_id) on delete cascade,
      from_status text,
      to_status   text not null,
      reason      text,
      at          timestamptz not null default now()
    );
    create index run_status_history_by_run on run_status_history (run_id, id);

    create table metrics (
      id     bigserial primary key,
      run_id text not null references runs (run_id) on delete cascade,
      key    text not null,
      step   integer not null,
      epoch  double precision,
      value  double precision not null,
      time   timestamptz not null default now()
    );
    create index metrics_by_run_key on metrics (run_id, key, step);

    create table models (
      model_name     text primary key,
      latest_version integer not null default 0,
      created_at     timestamptz not null default now()
    );

    create table model_versions (
      model_name text not null references models (model_name),
      version    integer not null,
      run_id     text not null unique references runs (run_id),
      model_uri  text not null,
      metrics    jsonb not null default '{}'::jsonb,
      status     text not null default 'ready' check (status in ('ready','archived')),
      created_at timestamptz not null default now(),
      primary key (model_name, version)
    );

    create table aliases (
      model_name text not null references models (model_name),
      alias      text not null check (alias in ('production','candidate')),
      version    integer not null,
      updated_at timestamptz not null default now(),
      primary key (model_name, alias),
      foreign key (model_name, version) references model_versions (model_name, version)
    );

    create table alias_history (
      id               bigserial primary key,
      model_name       text not null,
      alias            text not null,
      version          integer not null,
      previous_version integer,
      kind             text not null default 'promote' check (kind in ('promote','rollback')),
      reason           text,
      at               timestamptz not null default now()
    );
    create index alias_history_by_model on alias_history (model_name, alias, id desc);

    create table deployments (
      id         bigserial primary key,
      model_name text not null,
      version    integer not null,
      url        text not null,
      revision   text,
      created_at timestamptz not null default now(),
      foreign key (model_name, version) references model_versions (model_name, version)
    );
    create index deployments_by_model on deployments (model_name, id desc);

    create table upload_events (
      bucket      text not null,
      object      text not null,
      generation  text not null,
      run_id      text references runs (run_id),
      received_at timestamptz not null default now(),
      primary key (bucket, object, generation)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table upload_events, deployments, alias_history, aliases, model_versions, models, metrics,
      run_status_history, runs, datasets;
  `.execute(db);
}
