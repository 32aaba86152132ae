/** GIFs for tests, written with omggif's encoder: a palette, frames of palette indexes. */
import { GifWriter } from "omggif";

export interface GifFrame {
  /** Palette indexes, row by row (width × height). */
  pixels: number[];
  /** Palette index drawn as transparent. */
  transparent?: number;
}

/** A GIF of `width` × `height` with one or more full-canvas frames; palette entries are 0xRRGGBB. */
export function makeGif(width: number, height: number, palette: number[], frames: GifFrame[]): Buffer {
  const out = Buffer.alloc(1024 + frames.length * width * height * 2);
  const writer = new GifWriter(out, width, height, { palette, ...(frames.length > 1 && { loop: 0 }) });
  for (const frame of frames) {
    writer.addFrame(0, 0, width, height, frame.pixels, {
      delay: 10,
      ...(frame.transparent !== undefined && { transparent: frame.transparent }),
    });
  }
  return out.subarray(0, writer.end());
}
