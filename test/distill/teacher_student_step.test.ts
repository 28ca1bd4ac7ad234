import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { noGrad, teacherStudentStep, TeacherStudentOutputs } from '../../lib/distill/teacher_student_step';
import { mapLayers, LayerMapping } from '../../lib/distill/layer_mapping';
import { hiddenStateLoss, mse } from '../../lib/distill/hidden_state_loss';
import { Ctx, Module } from '../../lib/nn/module';
import { Linear } from '../../lib/nn/linear';
import { Sequential } from '../../lib/nn/sequential';
import { Activation } from '../../lib/nn/activations';
import { fit } from '../../lib/train/fit';
import { Rng } from '../../lib/util/rng';
import { setupBackend, assertClose, assertNoLeak } from '../helpers';

before(async () => { await setupBackend(); });

// Teacher 4 -> 16 -> 16 -> 3 and student 4 -> 6 -> 3 on [batch, time, 4] frames; taps are module paths.
function models() {
  const teacher = new Sequential([new Linear({ inFeatures: 4, outFeatures: 16 }), new Activation('tanh'),
    new Linear({ inFeatures: 16, outFeatures: 16 }), new Activation('tanh'), new Linear({ inFeatures: 16, outFeatures: 3 })]);
  const student = new Sequential([new Linear({ inFeatures: 4, outFeatures: 6 }), new Activation('tanh'),
    new Linear({ inFeatures: 6, outFeatures: 3 })]);
  const x = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 1);
  const sTaps = new Map<string, tf.Tensor>(), tTaps = new Map<string, tf.Tensor>();
  const filterS = (p: string) => p === '1' || p === '2', filterT = (p: string) => p === '1' || p === '4';
  tf.dispose([student.forward(x, { training: false, taps: sTaps, tapFilter: filterS }),
    teacher.forward(x, { training: false, taps: tTaps, tapFilter: filterT })]);
  const mapping = mapLayers(sTaps, tTaps); // '1' [2, 5, 6] -> '1' [2, 5, 16] (projection); '2' -> '4' (3 = 3)
  tf.dispose([x, ...sTaps.values(), ...tTaps.values()]);
  return { teacher, student, mapping };
}

const terms = (mapping: LayerMapping) => ({
  kd: { loss: (o: TeacherStudentOutputs) => mse(o.student, o.teacher), weight: 2 },
  hidden: (o: TeacherStudentOutputs) => mapping.loss(o.studentTaps, o.teacherTaps, (s, t) => hiddenStateLoss(s, t)),
  unused: { loss: () => { throw new Error('a term of weight 0 must not run'); }, weight: 0 },
});

test('loss = sum of weight * term, each term logged unweighted by name; terms of weight 0 skipped', async () => {
  const { teacher, student, mapping } = models();
  assert.deepEqual(mapping.pairs.map((p) => [p.student, p.teacher, p.projection]), [['1', '1', 'linear'], ['2', '4', 'none']]);
  const step = teacherStudentStep(student, teacher, { mapping, terms: terms(mapping) });
  const x = tf.randomNormal([3, 7, 4], 0, 1, 'float32', 2);
  const out = step({ x }, { training: true }, { epoch: 1, step: 0, batchIndex: 0 }) as { loss: tf.Scalar; terms: Record<string, tf.Scalar> };
  assert.deepEqual(Object.keys(out.terms), ['kd', 'hidden']);
  // By hand: both models in eval mode (no dropout or norm here), taps '1' of both, '2' of the student against '4'.
  const st = new Map<string, tf.Tensor>(), tt = new Map<string, tf.Tensor>();
  const ys = student.forward(x, { training: false, taps: st }), yt = teacher.forward(x, { training: false, taps: tt });
  const kd = mse(ys, yt);
  const h1 = hiddenStateLoss(mapping.pairs[0].projectionModule!.forward(st.get('1')!, { training: true }), tt.get('1')!);
  const hidden = tf.div(tf.add(h1, hiddenStateLoss(st.get('2')!, tt.get('4')!)), 2);
  assertClose(out.terms.kd, kd, { atol: 1e-6, label: 'kd term' });
  assertClose(out.terms.hidden, hidden, { atol: 1e-6, label: 'hidden term' });
  assertClose(out.loss, tf.add(tf.mul(kd, 2), hidden), { atol: 1e-6, label: 'weighted sum' });
  tf.dispose([x, out.loss, ...Object.values(out.terms), ys, yt, kd, h1, hidden, ...st.values(), ...tt.values()]);
  [teacher, student, mapping].forEach((m) => m.dispose());
});

test('the teacher is not on the gradient tape: one node for its whole forward, fewer tensors held, the same student gradients as a detached teacher', () => {
  const { teacher, student, mapping } = models();
  const t = terms(mapping);
  const x = tf.randomNormal([4, 6, 4], 0, 1, 'float32', 3);
  const ctx: Ctx = { training: true };
  const trainable = [...student.parameters(), ...mapping.parameters()];
  const all = [...trainable, ...teacher.parameters()];
  const run = (f: () => tf.Scalar) => {
    let tapeNodes = 0, held = 0;
    const r = tf.variableGrads(() => {
      const loss = f();
      tapeNodes = tf.engine().state.activeTape.length;
      held = tf.memory().numTensors;
      return loss;
    }, all);
    const grads = r.grads;
    r.value.dispose();
    return { tapeNodes, held, grads };
  };
  const hiddenOf = (o: TeacherStudentOutputs) => t.hidden(o);
  const lossOf = (o: TeacherStudentOutputs) => tf.add(tf.mul(t.kd.loss(o), 2), hiddenOf(o)) as tf.Scalar;
  // The library's step: teacher under noGrad.
  const step = teacherStudentStep(student, teacher, { mapping, terms: t });
  const viaStep = run(() => (step({ x }, ctx, { epoch: 1, step: 0, batchIndex: 0 }) as { loss: tf.Scalar }).loss);
  // The same loss with the teacher's forward on the tape.
  const withTeacherTaped = (detached: boolean) => {
    const tt = new Map<string, tf.Tensor>();
    const yt = tf.keep(teacher.forward(x, { training: false, taps: tt, tapFilter: (p) => p === '1' || p === '4' }));
    const f = () => {
      const st = new Map<string, tf.Tensor>();
      const teacherTaps = detached ? tt : new Map<string, tf.Tensor>();
      const teacherOut = detached ? yt : teacher.forward(x, { training: false, taps: teacherTaps, tapFilter: (p) => p === '1' || p === '4' });
      const ys = student.forward(x, { ...ctx, taps: st, tapFilter: (p) => p === '1' || p === '2' });
      const loss = lossOf({ student: ys, teacher: teacherOut, studentTaps: st, teacherTaps });
      tf.dispose([...st.values(), ...(detached ? [] : teacherTaps.values())]);
      return loss;
    };
    const r = run(f);
    tf.dispose([yt, ...tt.values()]);
    return r;
  };
  const detached = withTeacherTaped(true);
  const taped = withTeacherTaped(false);
  // The detached teacher ran before the tape started; under noGrad the only extra node is the customGrad op.
  assert.equal(viaStep.tapeNodes, detached.tapeNodes + 1);
  assert.ok(taped.tapeNodes >= detached.tapeNodes + 5, `taped teacher adds its kernels: ${taped.tapeNodes} vs ${detached.tapeNodes}`);
  assert.ok(viaStep.held < taped.held, `tensors held at the end of the forward: noGrad ${viaStep.held}, taped ${taped.held}`);
  for (const v of trainable) {
    assertClose(viaStep.grads[v.name], detached.grads[v.name], { atol: 1e-7, rtol: 1e-5, label: `grad ${v.name}` });
  }
  for (const v of teacher.parameters()) {
    assert.equal(viaStep.grads[v.name], undefined, `teacher parameter ${v.name} got a gradient under noGrad`);
    assert.ok(taped.grads[v.name], `the taped teacher's ${v.name} has a gradient (the comparison can tell)`);
  }
  tf.dispose([x, ...Object.values(viaStep.grads), ...Object.values(detached.grads), ...Object.values(taped.grads)]);
  [teacher, student, mapping].forEach((m) => m.dispose());
});

test('noGrad: value unchanged, zero gradient, nothing inside recorded, usable outside a tape', () => {
  const w = tf.variable(tf.tensor1d([1, 2, 3]));
  const v = noGrad(() => tf.mul(w, 2));
  assertClose(v, [2, 4, 6], { atol: 0, label: 'noGrad value' });
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(w, noGrad(() => tf.square(w)))) as tf.Scalar, [w]);
  // d/dw sum(w * sg(w^2)) = w^2: no 2 w^2 from the stopped branch.
  assertClose(grads[w.name], [1, 4, 9], { atol: 0, label: 'gradient through noGrad' });
  tf.dispose([w, v, value, grads[w.name]]);
});

// Records the mode and the taps each forward saw.
class Probe extends Module {
  readonly seen: { training: boolean; rng: boolean; taps: boolean }[] = [];
  readonly inner = this.addModule('inner', new Linear({ inFeatures: 4, outFeatures: 4 }));
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    this.seen.push({ training: ctx.training, rng: ctx.rng !== undefined, taps: ctx.taps !== undefined });
    return this.inner.forward(x, ctx);
  }
  getConfig(): Record<string, unknown> { return {}; }
}

test('the teacher runs with {training: false}, the student with the step ctx (training, rng) plus taps', () => {
  const teacher = new Probe(), student = new Probe();
  const step = teacherStudentStep(student, teacher, {
    studentTaps: ['inner'], teacherTaps: ['inner'],
    terms: { hidden: (o) => hiddenStateLoss(o.studentTaps.get('inner')!, o.teacherTaps.get('inner')!) },
  });
  const x = tf.ones([1, 2, 4]);
  const out = tf.tidy(() => (step({ x }, { training: true, rng: new Rng(1) }, { epoch: 1, step: 0, batchIndex: 0 }) as { loss: tf.Scalar }).loss);
  assert.deepEqual(teacher.seen, [{ training: false, rng: false, taps: true }]);
  assert.deepEqual(student.seen, [{ training: true, rng: true, taps: true }]);
  tf.dispose([x, out]);
  teacher.dispose();
  student.dispose();
});

test('train.fit with teacherStudentStep: the student learns, tf.memory().numTensors does not grow over many steps', async () => {
  const { teacher, student, mapping } = models();
  const step = teacherStudentStep(student, teacher, { mapping, terms: terms(mapping) });
  // Batches made one at a time (fit disposes each after its step), so the count reflects the step alone.
  const batches = function* (epoch: number) {
    for (let i = 0; i < 6; i++) yield { x: tf.randomNormal([4, 5, 4], 0, 1, 'float32', epoch * 100 + i) };
  };
  const counts: number[] = [];
  const before = tf.memory().numTensors;
  const history = await fit({ modules: { student, heads: mapping }, step, batches, epochs: 4, progress: 'none',
    optimizer: { kind: 'adam', lr: 0.02 }, onStep: () => { counts.push(tf.memory().numTensors); } });
  assert.equal(counts.length, 24);
  assert.ok(counts.slice(2).every((c) => c === counts[1]), `numTensors per step: ${counts.join(' ')}`);
  assert.equal(tf.memory().numTensors, before, 'tensors left after fit');
  const [first, last] = [history.epochs[0], history.epochs[history.epochs.length - 1]];
  assert.ok(last.loss < first.loss, `loss ${first.loss} -> ${last.loss}`);
  assert.ok(typeof last.kd === 'number' && typeof last.hidden === 'number' && !('unused' in last));
  [teacher, student, mapping].forEach((m) => m.dispose());
});

test('teacherStudentStep rejects missing taps, non-scalar terms and all-zero weights', () => {
  const { teacher, student, mapping } = models();
  const x = tf.ones([1, 2, 4]);
  const info = { epoch: 1, step: 0, batchIndex: 0 };
  const before = tf.memory().numTensors;
  const missing = teacherStudentStep(student, teacher, { studentTaps: ['nope'], terms: { kd: (o) => mse(o.student, o.teacher) } });
  assert.throws(() => missing({ x }, { training: true }, info), /the student recorded no tap 'nope'/);
  const vector = teacherStudentStep(student, teacher, { terms: { bad: (o) => tf.sub(o.student, o.teacher) as unknown as tf.Scalar } });
  assert.throws(() => vector({ x }, { training: true }, info), /term 'bad' must return a scalar tensor; got shape \[1,2,3\]/);
  assert.equal(tf.memory().numTensors, before, 'a failing step leaks no taps');
  assert.throws(() => teacherStudentStep(student, teacher, { terms: { a: { loss: () => tf.scalar(0), weight: 0 } } }), /no loss term with a non-zero weight/);
  assert.throws(() => teacherStudentStep(student, teacher, { terms: { a: { loss: () => tf.scalar(0), weight: NaN } } }), /term 'a' has weight NaN/);
  x.dispose();
  [teacher, student, mapping].forEach((m) => m.dispose());
});

test('teacherStudentStep leaks no tensors outside fit (taps disposed every step)', async () => {
  const { teacher, student, mapping } = models();
  const step = teacherStudentStep(student, teacher, { mapping, terms: terms(mapping) });
  const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 4);
  await assertNoLeak(() => step({ x }, { training: true }, { epoch: 1, step: 0, batchIndex: 0 }), 'teacherStudentStep');
  await assertNoLeak(() => tf.variableGrads(() => (step({ x }, { training: true }, { epoch: 1, step: 0, batchIndex: 0 }) as { loss: tf.Scalar }).loss,
    [...student.parameters(), ...mapping.parameters()]), 'teacherStudentStep grads');
  x.dispose();
  [teacher, student, mapping].forEach((m) => m.dispose());
});
