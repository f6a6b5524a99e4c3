/** Typed requests to the `mlops/api/pipelines/` routes: local and cluster runs side by side. */

import { query, request } from './api';
import type {
  DoctorReport,
  PipelineExperimentsPage,
  PipelineRunChanged,
  PipelineRunDetail,
  PipelineRunRow,
  PipelineRunsPage,
  PipelineTaskLog,
  UploadedPipelinesPage,
  UploadedPipelineVersionsPage
} from './models.generated';

/** Where a run lives: on this machine (`kfp.local`) or in Kubeflow Pipelines on the cluster. */
export type RunSource = PipelineRunRow['source'];

/** The state of a run or of one of its tasks, with Kubeflow Pipelines v2 names. */
export type RunStatus = PipelineRunRow['status'];

/** Which runs to list. */
export interface IPipelineRunsQuery {
  source: RunSource | 'all';
  sort: string;
  status: RunStatus | '';
  experiment: string;
  pageSize: number;
  pageToken: string;
}

/** Path of one run's route; the source tells the server which backend holds it. */
function runPath(source: RunSource, id: string, sub = ''): string {
  const parts = ['pipelines', 'runs', encodeURIComponent(id)];
  if (sub) {
    parts.push(sub);
  }
  return parts.join('/') + query({ source });
}

/** `GET /mlops/api/pipelines/runs`: one page of each source asked for. */
export function fetchPipelineRuns(q: IPipelineRunsQuery): Promise<PipelineRunsPage> {
  return request<PipelineRunsPage>(
    'pipelines/runs' +
      query({
        source: q.source,
        sort: q.sort,
        status: q.status,
        experiment: q.experiment,
        page_size: String(q.pageSize),
        page_token: q.pageToken
      })
  );
}

/** `GET /mlops/api/pipelines/experiments`. */
export function fetchPipelineExperiments(): Promise<PipelineExperimentsPage> {
  return request<PipelineExperimentsPage>('pipelines/experiments');
}

/** `GET /mlops/api/pipelines/pipelines`: pipelines uploaded to Kubeflow Pipelines. */
export function fetchUploadedPipelines(): Promise<UploadedPipelinesPage> {
  return request<UploadedPipelinesPage>('pipelines/pipelines');
}

/** `GET /mlops/api/pipelines/pipelines/ID/versions`. */
export function fetchUploadedPipelineVersions(
  pipelineId: string
): Promise<UploadedPipelineVersionsPage> {
  return request<UploadedPipelineVersionsPage>(
    `pipelines/pipelines/${encodeURIComponent(pipelineId)}/versions`
  );
}

/** `GET /mlops/api/pipelines/runs/ID`. */
export function fetchPipelineRun(source: RunSource, id: string): Promise<PipelineRunDetail> {
  return request<PipelineRunDetail>(runPath(source, id));
}

/** `GET /mlops/api/pipelines/runs/ID/tasks/TASK/log`: what the task printed. */
export async function fetchTaskLog(source: RunSource, id: string, task: string): Promise<string> {
  const answer = await request<PipelineTaskLog>(
    ['pipelines', 'runs', encodeURIComponent(id), 'tasks', encodeURIComponent(task), 'log'].join(
      '/'
    ) + query({ source })
  );
  return answer.text;
}

/**
 * `GET /mlops/api/pipelines/runs/ID/tasks/TASK/findings`: why a failed cluster task failed,
 * from its pod, or the task's last known state once the pod is gone.
 */
export function fetchTaskFindings(
  source: RunSource,
  id: string,
  task: string
): Promise<DoctorReport> {
  return request<DoctorReport>(
    runPath(source, id, ['tasks', encodeURIComponent(task), 'findings'].join('/'))
  );
}

/** `POST /mlops/api/pipelines/runs/ID/terminate`. */
export function terminatePipelineRun(source: RunSource, id: string): Promise<PipelineRunChanged> {
  return request<PipelineRunChanged>(runPath(source, id, 'terminate'), {
    method: 'POST',
    body: '{}'
  });
}

/** `POST /mlops/api/pipelines/runs/ID/retry`. */
export function retryPipelineRun(source: RunSource, id: string): Promise<PipelineRunChanged> {
  return request<PipelineRunChanged>(runPath(source, id, 'retry'), { method: 'POST', body: '{}' });
}
