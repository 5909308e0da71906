import { describe, expect, it } from 'vitest';
import { runningLabelled } from '../../workflows/connectors/podman.ts';
import { rehearse } from './rehearse.ts';

// The rehearsal end to end (needs `npm run images`): the cloud images driven by pipeline.yaml.
describe('droptune rehearse', () => {
  it('trains, serves, predicts, rolls back and promotes with the cloud images, leaving no container', async () => {
    const summary = await rehearse();
    expect(summary.error, summary.logTail).toBeUndefined();
    expect(summary).toMatchObject({ status: 'passed', runStatus: 'succeeded', version: 2 });
    expect(summary.images.trainer.digest).toMatch(/^sha256:/);
    expect(summary.images.serving.digest).toMatch(/^sha256:/);
    expect(summary.prediction).toMatchObject({ model: { version: 2 } });
    expect(Object.keys(summary.stageSeconds)).toEqual([
      'images',
      'stack',
      'fixtures',
      'settings',
      'train_v1',
      'predict_v1',
      'train_v2',
      'rollback',
      'promote',
      'stop',
    ]);
    expect(await runningLabelled(`droptune-session=${summary.session}`)).toEqual([]);
  }, 1_800_000);

  it('fails at the images stage, naming the missing image, without starting anything', async () => {
    const summary = await rehearse({ trainerImage: 'localhost/droptune-no-such-image:none' });
    expect(summary).toMatchObject({ status: 'failed', failedStage: 'images' });
    expect(summary.error).toMatch(
      /localhost\/droptune-no-such-image:none is not built \(run "npm run images"\)/,
    );
    expect(summary.stageSeconds.stack).toBeUndefined();
  });
});
