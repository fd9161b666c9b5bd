import { describe, expect, it } from 'vitest';
import type { JobSourceReply } from '../shared/protocol.ts';
import type { CallResult } from './coordinator-call.ts';
import { JobSources } from './job-sources.ts';

const job = (jobId: string, name: string): JobSourceReply => ({ jobId, name, source: '', digest: 'd' });

describe('JobSources', () => {
  /** A fetch the test answers by hand, counting the calls. */
  const manualFetch = () => {
    const calls: { jobId: string; answer: (result: CallResult<JobSourceReply>) => void }[] = [];
    const fetch = (jobId: string) => new Promise<CallResult<JobSourceReply>>((answer) => calls.push({ jobId, answer }));
    return { calls, fetch };
  };

  it('shares one fetch between the tasks of a job and keeps what it got', async () => {
    const { calls, fetch } = manualFetch();
    const sources = new JobSources(fetch);
    const first = sources.get('job-a');
    const second = sources.get('job-a');
    expect(calls).toHaveLength(1);
    calls[0]!.answer({ ok: true, value: job('job-a', 'wc') });
    expect(await first).toEqual(job('job-a', 'wc'));
    expect(await second).toEqual(job('job-a', 'wc'));
    expect(await sources.get('job-a')).toEqual(job('job-a', 'wc'));
    expect(calls).toHaveLength(1);
  });

  it('rejects with the failure, and asks again for the next task', async () => {
    const { calls, fetch } = manualFetch();
    const sources = new JobSources(fetch);
    const failing = sources.get('job-gone');
    calls[0]!.answer({ ok: false, failure: { kind: 'refused', error: { code: 'NOT_FOUND', message: 'no job job-gone' } } });
    await expect(failing).rejects.toThrow('NOT_FOUND: no job job-gone');
    void sources.get('job-gone');
    expect(calls).toHaveLength(2);
  });

  it('forgets the oldest source past its limit', async () => {
    const { calls, fetch } = manualFetch();
    const sources = new JobSources(fetch, 2);
    for (const jobId of ['j1', 'j2', 'j3']) void sources.get(jobId);
    for (const call of calls) call.answer({ ok: true, value: job(call.jobId, call.jobId) });
    await sources.get('j3');
    void sources.get('j2');
    void sources.get('j1');
    expect(calls.map((call) => call.jobId)).toEqual(['j1', 'j2', 'j3', 'j1']);
  });

  it('knows a module by its digest once any job with that code was fetched', async () => {
    const { calls, fetch } = manualFetch();
    const sources = new JobSources(fetch);
    expect(sources.module('d')).toBeUndefined();
    const fetching = sources.get('job-a');
    expect(sources.module('d')).toBeUndefined();
    calls[0]!.answer({ ok: true, value: { ...job('job-a', 'wc'), source: 'export function map() {}' } });
    await fetching;
    // A second job with the same code: its tasks need not wait for its own fetch.
    expect(sources.module('d')).toEqual({ digest: 'd', source: 'export function map() {}' });
    expect(sources.module('other')).toBeUndefined();
  });
});
