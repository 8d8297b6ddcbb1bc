// Runs tfjs pose-detection's MoveNet in Node on tfjs's pure-JS CPU backend; prints each run's poses
// as one JSON line as soon as the run is done (the CPU backend takes seconds per frame).
//
// Driven by bench/movenet_reference.py, which decodes the images and video with OpenCV
// (so posed's tests see the very same pixels) and hands them over as raw RGB files:
//   node generate.cjs JOB.json   (JOB: {models: {name: dir}, runs: [...]}, see the Python side)
// Needs, in NODE_PATH or a node_modules beside it: @tensorflow-models/pose-detection,
// @tensorflow/tfjs-core, @tensorflow/tfjs-converter, @tensorflow/tfjs-backend-cpu.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tfconv = require('@tensorflow/tfjs-converter');
// The MoveNet detector alone: the package's index also loads BlazePose's MediaPipe runtime,
// which needs a browser.
const movenet = require('@tensorflow-models/pose-detection/dist/movenet/detector');

// A graph model read from local files (model.json + its weight files), no fetch.
function fileHandler(jsonPath) {
  return {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
      const specs = [];
      const buffers = [];
      for (const group of json.weightsManifest) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          const b = fs.readFileSync(path.join(path.dirname(jsonPath), p));
          buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
        }
      }
      const total = buffers.reduce((n, b) => n + b.byteLength, 0);
      const weightData = new Uint8Array(total);
      let offset = 0;
      for (const b of buffers) {
        weightData.set(new Uint8Array(b), offset);
        offset += b.byteLength;
      }
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: specs,
        weightData: weightData.buffer,
      };
    },
  };
}

function readFrame(frame) {
  const data = fs.readFileSync(frame.rgb);
  if (data.length !== frame.width * frame.height * 3) {
    throw new Error(`${frame.rgb}: ${data.length} bytes, expected ${frame.width}x${frame.height}x3`);
  }
  return tf.tensor3d(new Int32Array(data), [frame.height, frame.width, 3], 'int32');
}

function posesJson(poses) {
  return poses.map((pose) => ({
    score: pose.score,
    id: pose.id === undefined ? null : pose.id,
    keypoints: pose.keypoints.map((k) => [k.x, k.y, k.score]),
    box: pose.box ? [pose.box.xMin, pose.box.yMin, pose.box.xMax, pose.box.yMax] : null,
  }));
}

async function main() {
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  await tf.setBackend('cpu');
  await tf.ready();
  for (const run of job.runs) {
    const detector = await movenet.load({
      modelType: run.modelType,
      modelUrl: fileHandler(run.modelJson),
      enableSmoothing: run.enableSmoothing,
      enableTracking: run.enableTracking,
      trackerType: run.trackerType,
      multiPoseMaxDimension: run.multiPoseMaxDimension,
    });
    const frames = [];
    for (const frame of run.frames) {
      const image = readFrame(frame);
      // timestamp in milliseconds, as estimatePoses takes it; null: a still image
      const poses = await detector.estimatePoses(image, {}, frame.timestampMs === null ? undefined : frame.timestampMs);
      image.dispose();
      frames.push(posesJson(poses));
      process.stderr.write(`${run.name}: frame ${frames.length}/${run.frames.length}\n`);
    }
    detector.dispose();
    process.stdout.write(JSON.stringify({name: run.name, tfjsBackend: tf.getBackend(), frames}) + '\n');
    process.stderr.write(`${run.name}: ${frames.length} frame(s)\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
