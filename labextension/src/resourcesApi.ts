/** Typed requests to the `/mlops/api/resources` routes (types generated from the server's). */

import { request } from './api';
import type { MyPod, NextPodHits, ResourcesReport } from './models.generated';

/** `GET /mlops/api/resources`: pods, use, quota, LimitRanges, GPUs and volumes. */
export function fetchResources(): Promise<ResourcesReport> {
  return request<ResourcesReport>('resources');
}

/** `GET /mlops/api/resources/me`: this notebook pod's requests, limits and cgroup use. */
export function fetchMyResources(): Promise<MyPod> {
  return request<MyPod>('resources/me');
}

/** `GET /mlops/api/resources/next-pod?size=`: what the quota would refuse of a pod so big. */
export function fetchNextPodHits(size: string): Promise<NextPodHits> {
  return request<NextPodHits>(`resources/next-pod?size=${encodeURIComponent(size)}`);
}
