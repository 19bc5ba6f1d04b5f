/** Development aid: one picker over a few farms, with the job that ended last. */
import { parseArgs } from 'node:util'
import { SCENARIOS } from './scenarios.ts'
import { simulate } from './simulator.ts'
import { makeWorkload } from './workload.ts'

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'history' },
    seeds: { type: 'string', default: '1-8' },
    hedge: { type: 'boolean', default: false },
    builder: { type: 'boolean', default: false },
    advert: { type: 'boolean', default: false },
  },
})
const sc = SCENARIOS.find((s) => s.id === values.scenario)!
const [a, b] = values.seeds.split('-').map(Number) as [number, number]
const ratios: number[] = []
let busy = 0
let jobs = 0
for (let seed = a; seed <= (b ?? a); seed++) {
  const w = makeWorkload({ ...sc.workload, seed })
  const r = await simulate(w, {
    ...sc.sim,
    seed,
    hedge: values.hedge,
    reservations: values.builder ? 'builder' : values.advert ? 'advert' : 'daemon',
  })
  const last = r.trace.reduce((x, y) => (y.endAt > x.endAt ? y : x))
  const fastest = Math.max(...w.members.map((m) => m.speed))
  const longest = r.trace.reduce((x, y) => (y.job.work > x.job.work ? y : x))
  ratios.push(r.ratio)
  busy += r.busy
  jobs += r.local + r.remote
  console.log(
    `seed ${seed}: ratio ${r.ratio.toFixed(3)} makespan ${(r.makespanMs / 1000).toFixed(1)} bound ${(r.boundMs / 1000).toFixed(1)} (work ${(r.workBoundMs / 1000).toFixed(1)}) busy/job ${(r.busy / (r.local + r.remote)).toFixed(2)} held ${(r.heldBack / (r.local + r.remote)).toFixed(1)} | last: work ${(last.job.work / 1000).toFixed(1)} speed ${last.speed.toFixed(2)}/${fastest.toFixed(2)} start ${(last.submittedAt / 1000).toFixed(1)} end ${(last.endAt / 1000).toFixed(1)} ${last.where} | longest: work ${(longest.job.work / 1000).toFixed(1)} speed ${longest.speed.toFixed(2)} end ${(longest.endAt / 1000).toFixed(1)}  ${Math.round(r.wallMs)} ms`,
  )
}
ratios.sort((x, y) => x - y)
console.log(
  `median ${ratios[ratios.length >> 1]!.toFixed(3)} worst ${ratios[ratios.length - 1]!.toFixed(3)} within10 ${ratios.filter((x) => x <= 1.1).length}/${ratios.length} busy/job ${(busy / jobs).toFixed(1)}`,
)
