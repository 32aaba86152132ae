import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { gifToPng } from "../../src/core/gif-to-png.js";
import { makeGif } from "../helpers/gif.js";

const RED = 0xff0000;
const GREEN = 0x00ff00;
const BLUE = 0x0000ff;
const WHITE = 0xffffff;

/** RGBA pixels of a base64 PNG. */
function pixelsOf(base64: string): { width: number; height: number; rgba: number[] } {
  const png = PNG.sync.read(Buffer.from(base64, "base64"));
  return { width: png.width, height: png.height, rgba: [...png.data] };
}

describe("gifToPng", () => {
  it("converts a GIF to a PNG with the same pixels, transparency included", () => {
    // 3 × 2: red green blue / white, transparent, red.
    const gif = makeGif(3, 2, [RED, GREEN, BLUE, WHITE], [{ pixels: [0, 1, 2, 3, 1, 0], transparent: 1 }]);
    const result = gifToPng(gif.toString("base64"));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(pixelsOf(result.base64)).toEqual({
      width: 3,
      height: 2,
      // biome-ignore format: one pixel per group
      rgba: [255, 0, 0, 255,  0, 0, 0, 0,  0, 0, 255, 255,  255, 255, 255, 255,  0, 0, 0, 0,  255, 0, 0, 255],
    });
  });

  it("takes the first frame of an animation", () => {
    const gif = makeGif(2, 1, [RED, GREEN], [{ pixels: [1, 1] }, { pixels: [0, 0] }]);
    const result = gifToPng(gif.toString("base64"));
    expect(result.ok && pixelsOf(result.base64).rgba).toEqual([0, 255, 0, 255, 0, 255, 0, 255]);
  });

  it("gives the same answer again without converting again", () => {
    const data = makeGif(1, 1, [BLUE, WHITE], [{ pixels: [0] }]).toString("base64");
    expect(gifToPng(data)).toBe(gifToPng(data));
  });

  it("reports data that is not a GIF, a truncated GIF and a canvas too large to decode", () => {
    expect(gifToPng(Buffer.from("not a gif at all").toString("base64"))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not a readable GIF/),
    });
    const whole = makeGif(4, 4, [RED, GREEN], [{ pixels: new Array(16).fill(1) }]);
    const cut = gifToPng(whole.subarray(0, whole.length - 12).toString("base64"));
    expect(cut.ok).toBe(false);
    // A 10000 × 10000 canvas (the header says so) with a tiny frame: refused before decoding.
    const huge = makeGif(10_000, 10_000, [RED, GREEN], []);
    expect(gifToPng(huge.toString("base64"))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/10000×10000 pixels/),
    });
  });
});
