/**
 * A stand-in libp2p node for the `Adverts` unit tests (and the advert fields they publish): a gossipsub face that records its topic
 * validators and hands every published message to `onPublish` (decoded), answering with the
 * recipients `recipients()` names.
 *
 * @example
 * ```ts
 * const sent: Advert[] = []
 * const { node, validators } = fakeAdvertNode((r) => r.ok && sent.push(r.advert))
 * ```
 */
import type { TopicValidatorFn } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { decodeAdvert } from '../../src/mesh/advert-codec.ts'
import type { MeshNode } from '../../src/mesh/create-node.ts'
import type { AdvertFields } from '../../src/mesh/types.ts'

export function fakeAdvertNode(
  onPublish: (decoded: ReturnType<typeof decodeAdvert>) => void,
  recipients: () => PeerId[] = () => [],
): { node: MeshNode; validators: Map<string, TopicValidatorFn> } {
  const validators = new Map<string, TopicValidatorFn>()
  const node = {
    getMultiaddrs: () => [],
    services: {
      pubsub: {
        topicValidators: validators,
        subscribe: () => {},
        unsubscribe: () => {},
        publish: async (_topic: string, data: Uint8Array) => {
          onPublish(decodeAdvert(data))
          return { recipients: recipients() }
        },
      },
    },
  } as unknown as MeshNode
  return { node, validators }
}

/** Advert fields of an idle 8-core Linux builder, with `over` on top. */
export function sampleAdvertFields(over: Partial<AdvertFields> = {}): AdvertFields {
  return {
    host: 'h',
    platform: 'linux',
    arch: 'x64',
    cores: 8,
    freeSlots: 8,
    load: 0,
    queuedJobs: 0,
    speed: 1,
    toolchains: [],
    ...over,
  }
}
