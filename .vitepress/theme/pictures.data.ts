// Build-time data for the pictures: each is drawn from the code or from a
// checked run when the site is built, so that it cannot drift from them.
import { defineLoader } from 'vitepress'
import { TRANSITIONS } from '../../src/jobs/job.ts'
import { jobPathPicture } from '../pictures/job-path.ts'
import { chapterTimeline, timelineAlt, type Timeline } from '../pictures/shutdown.ts'
import { statesPicture } from '../pictures/states.ts'

export interface Picture {
  svg: string
  alt: string
}

export interface PicturesData {
  states: Picture
  jobPath: Picture
  shutdown: Timeline & { alt: string }
}

declare const data: PicturesData
export { data }

export default defineLoader({
  watch: ['../../src/jobs/job.ts', '../pictures/*.ts', '../../docs/guide/graceful-shutdown.md'],
  async load(): Promise<PicturesData> {
    const timeline = chapterTimeline()
    return {
      states: await statesPicture(TRANSITIONS),
      jobPath: await jobPathPicture(),
      shutdown: { ...timeline, alt: timelineAlt(timeline) },
    }
  },
})
