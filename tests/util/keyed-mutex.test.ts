import { createKeyedMutex } from '../../src/util/keyed-mutex.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the keyed mutex', () => {
  it('runs work for one key strictly one after another', async () => {
    const mutex = createKeyedMutex();
    const log: string[] = [];
    await Promise.all(
      [30, 10, 0].map((delay, i) =>
        mutex.run('a', async () => {
          log.push(`start ${i}`);
          await sleep(delay);
          log.push(`end ${i}`);
        }),
      ),
    );
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    expect(mutex.size()).toBe(0);
  });

  it('runs different keys concurrently and keeps going after a failure', async () => {
    const mutex = createKeyedMutex();
    const log: string[] = [];
    const a = mutex.run('a', async () => {
      await sleep(20);
      log.push('a');
    });
    const b = mutex.run('b', async () => {
      log.push('b');
    });
    const failing = mutex.run('a', async () => {
      throw new Error('boom');
    });
    const after = mutex.run('a', async () => 'still works');
    await Promise.all([a, b]);
    await expect(failing).rejects.toThrow('boom');
    await expect(after).resolves.toBe('still works');
    expect(log).toEqual(['b', 'a']);
  });
});
