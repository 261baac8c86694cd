import { describe, expect, it } from 'vitest';
import { JobState, JobStateMachine } from './job-state.js';

describe('JobStateMachine', () => {
  it('follows the lifecycle and reports each transition', () => {
    const m = new JobStateMachine();
    const seen: string[] = [];
    m.onChange((from, to) => seen.push(`${from}>${to}`));
    for (const s of [JobState.running, JobState.paused, JobState.running, JobState.evaluating, JobState.checkpointing, JobState.running, JobState.writing, JobState.done]) m.to(s);
    expect(seen).toEqual([
      'waiting>running',
      'running>paused',
      'paused>running',
      'running>evaluating',
      'evaluating>checkpointing',
      'checkpointing>running',
      'running>writing',
      'writing>done',
    ]);
    expect(m.finished).toBe(true);
  });

  it('refuses transitions that are not in the table, and leaves the state unchanged', () => {
    const m = new JobStateMachine();
    expect(() => m.to(JobState.done)).toThrow('job state: illegal transition waiting -> done');
    expect(m.state).toBe(JobState.waiting);
    m.to(JobState.failed);
    expect(() => m.to(JobState.running)).toThrow('illegal transition failed -> running');
  });
});
