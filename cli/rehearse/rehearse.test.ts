import { describe, expect, inject, it } from 'vitest';
import { runningLabelled } from '../../workflows/connectors/podman.ts';
import { type RehearsalFaults, rehearse } from './rehearse.ts';

// The rehearsal end to end (needs `npm run images`): the cloud composition of the functions on
// twins, the cloud images driven by pipeline.yaml.
describe('droptune rehearse', () => {
  it('trains, serves, predicts, rolls back and promotes with the cloud images, leaving no container', async () => {
    const summary = await rehearse({ databaseServerUrl: inject('pgUrl'), log: (l) => console.error(l) });
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

  // Faults on the cloud path: each ends the run `failed` with its reason, production untouched
  // and no container left; the rehearsal fails at the training stage naming it.
  describe('faults end the run failed with the reason', { timeout: 900_000 }, () => {
    const faulty = async (faults: RehearsalFaults) => {
      const summary = await rehearse({ databaseServerUrl: inject('pgUrl'), faults });
      expect(summary).toMatchObject({ status: 'failed', failedStage: 'train_v1', runStatus: 'failed' });
      expect(summary.production).toBeNull();
      expect(await runningLabelled(`droptune-session=${summary.session}`)).toEqual([]);
      return summary;
    };

    it('an ID token for the wrong audience is refused: the run fails naming the audience', async () => {
      // The API was deployed with another DROPTUNE_API_URL than the one its callers mint for.
      const summary = await faulty({ apiAudience: 'https://droptune-api-elsewhere.a.run.app' });
      expect(summary.error).toMatch(/401/);
      expect(summary.error).toMatch(/audience|recipient/i);
    });

    it('a trainer container that exits non-zero fails the run; the log tail shows the exit code', async () => {
      const summary = await faulty({ trainerExitCode: 3 });
      expect(summary.error).toMatch(/trainer exited without writing manifest\.json.*TERMINATED/);
      expect(summary.logTail).toMatch(/droptune: trainer exited with 3$/);
    });

    it('a trainer image that is not there fails the run; the log tail names the image', async () => {
      const summary = await faulty({ pipelineTrainerImage: 'localhost/droptune-no-such-image:none' });
      expect(summary.error).toMatch(/trainer exited without writing manifest\.json.*TERMINATED/);
      expect(summary.logTail).toMatch(/droptune-no-such-image.*image not known/is);
      expect(summary.logTail).toMatch(/droptune: trainer exited with 125$/);
    });

    it('a serving revision that never passes its startup probe fails the run after training', async () => {
      const summary = await faulty({ pipelineServingImage: 'localhost/droptune-no-such-serving:none' });
      expect(summary.error).toMatch(/droptune-no-such-serving|startup probe|ready/i);
    });
  });
});
