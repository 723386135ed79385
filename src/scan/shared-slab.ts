/**
 * Shared slab: one SharedArrayBuffer that file contents are read into for analysis, so worker threads read them in
 * place instead of receiving a copy, and the memory is allocated (and its pages faulted in) once per scan instead of
 * once per file. Regions are handed out as a ring over the first `ringBytes` in request order; a request waits until
 * the oldest regions are released, which is what holds back the layer stream when analysis lags (the ring bounds
 * the bytes in flight). A file larger than the ring waits for the slab to empty and takes it whole, so pages past
 * the ring are only touched by images that hold such files.
 */

export interface SlabRegion {
  offset: number;
  size: number;
}

interface Live extends SlabRegion {
  released: boolean;
}

export class SharedSlab {
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  readonly ringBytes: number;
  /** Regions in allocation order from index #first on; the first is the oldest not yet given back to the ring. */
  #live: Live[] = [];
  #first = 0;
  #head = 0;
  #held = 0;
  #waiting: { size: number; resolve: (region: SlabRegion) => void }[] = [];

  constructor(capacity: number, ringBytes = capacity) {
    this.capacity = capacity;
    this.ringBytes = Math.min(ringBytes, capacity);
    this.buffer = new SharedArrayBuffer(capacity);
  }

  /** A region of `size` bytes (1 ≤ size ≤ capacity), once that much is free and earlier requests are served. */
  reserve(size: number): Promise<SlabRegion> {
    if (!(size >= 1 && size <= this.capacity)) throw new RangeError(`slab request of ${size} bytes (capacity ${this.capacity})`);
    if (this.#waiting.length === 0) {
      const region = this.#take(size);
      if (region) return Promise.resolve(region);
    }
    return new Promise((resolve) => this.#waiting.push({ size, resolve }));
  }

  /** Gives a region from reserve() back; releasing one twice is harmless. */
  release(region: SlabRegion): void {
    const live = region as Live;
    if (live.released !== false) return;
    live.released = true;
    this.#held -= live.size;
    while (this.#first < this.#live.length && this.#live[this.#first]!.released) this.#first++;
    if (this.#first === this.#live.length) {
      this.#live = [];
      this.#first = 0;
      this.#head = 0;
    } else if (this.#first > 1024 && this.#first * 2 > this.#live.length) {
      this.#live = this.#live.slice(this.#first);
      this.#first = 0;
    }
    while (this.#waiting.length > 0) {
      const next = this.#take(this.#waiting[0]!.size);
      if (!next) break;
      this.#waiting.shift()!.resolve(next);
    }
  }

  /** Bytes in regions not yet released. */
  get held(): number {
    return this.#held;
  }

  #take(size: number): SlabRegion | undefined {
    const oldest = this.#live[this.#first]?.offset;
    let offset: number | undefined;
    if (oldest === undefined) offset = 0;
    else if (size > this.ringBytes) offset = undefined; // a file larger than the ring needs the slab to itself
    else if (this.#head > oldest) {
      // Not wrapped: free space runs from head to the end, then from the start to the oldest region.
      if (this.#head + size <= this.ringBytes) offset = this.#head;
      else if (size <= oldest) offset = 0;
    } else if (this.#head + size <= oldest) offset = this.#head; // wrapped: free space lies between head and oldest
    if (offset === undefined) return undefined;
    this.#head = offset + size;
    this.#held += size;
    const live: Live = { offset, size, released: false };
    this.#live.push(live);
    return live;
  }
}
