import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { applyOverrides, mergeConfig, presetFromEnv, Presets, resolvePreset } from '../../lib/experiments/presets';

test('applyOverrides sets nested keys, parses JSON values, and refuses unknown, inherited or non-object paths', () => {
  const base = { epochs: 3, opt: { lr: 0.1, name: 'adam' }, aug: null as null | { p: number }, widths: [1] };
  const c = applyOverrides(base, ['epochs=5', 'opt.lr=0.01', 'opt.name=sgd', 'widths=[0.5,1]']);
  assert.deepEqual(c, { epochs: 5, opt: { lr: 0.01, name: 'sgd' }, aug: null, widths: [0.5, 1] });
  assert.equal(base.epochs, 3, 'the preset itself is not changed');
  assert.throws(() => applyOverrides(base, ['epoch=5']), /unknown key 'epoch'; known: epochs, opt, aug, widths/);
  assert.throws(() => applyOverrides(base, ['__proto__.polluted=1']), /unknown key '__proto__'/);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.throws(() => applyOverrides(base, ['aug.p=1']), /'aug' is null, not a group of settings; set it whole/);
  assert.throws(() => applyOverrides(base, ['epochs']), /expects key=value/);
  assert.throws(() => applyOverrides(base, ['opt={"lr":1,"nmae":"x"}']), /unknown key 'opt.nmae'; known: lr, name/);
  assert.deepEqual(applyOverrides(base, ['opt={"lr":1}']).opt, { lr: 1 }, 'a group may be replaced by a subset of its keys');
});

test('presetFromEnv reads SLIMSPEECH_PRESET', () => {
  const prev = process.env.SLIMSPEECH_PRESET;
  try {
    delete process.env.SLIMSPEECH_PRESET;
    assert.equal(presetFromEnv(), 'default');
    process.env.SLIMSPEECH_PRESET = 'quick';
    assert.equal(presetFromEnv(), 'quick');
    process.env.SLIMSPEECH_PRESET = 'huge';
    assert.throws(() => presetFromEnv(), /quick, default or paper/);
  } finally {
    if (prev === undefined) delete process.env.SLIMSPEECH_PRESET; else process.env.SLIMSPEECH_PRESET = prev;
  }
});

test('presets: quick and paper are differences from default, merged key by key; arrays and null are replaced whole', () => {
  type Cfg = { epochs: number; opt: { lr: number; name: string }; widths: number[]; aug: null | { p: number } };
  const presets: Presets<Cfg> = {
    default: { epochs: 20, opt: { lr: 0.1, name: 'adam' }, widths: [0.5, 1], aug: null },
    quick: { epochs: 2, opt: { lr: 0.5 }, widths: [1] },
    paper: { aug: { p: 0.8 } },
  };
  assert.deepEqual(resolvePreset(presets, 'quick'), { epochs: 2, opt: { lr: 0.5, name: 'adam' }, widths: [1], aug: null });
  assert.deepEqual(resolvePreset(presets, 'paper'), { epochs: 20, opt: { lr: 0.1, name: 'adam' }, widths: [0.5, 1], aug: { p: 0.8 } });
  const d = resolvePreset(presets, 'default');
  d.opt.lr = 9;
  assert.equal(presets.default.opt.lr, 0.1, 'a resolved preset is a copy');
  assert.throws(() => mergeConfig(presets.default, { opt: { lrr: 1 } } as never, 'x'), /x: unknown key 'opt.lrr'; known: lr, name/);
  assert.throws(() => resolvePreset(presets, 'huge' as never), /quick, default, paper/);
});
