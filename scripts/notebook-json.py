#!/usr/bin/env python3
"""Writes a notebook (.ipynb, tslab kernel, no outputs) from a plain-text source.

Notebooks are kept as readable text in notebooks/src/<name>.txt: cells separated by lines
`%% markdown` or `%% code`. This script turns one into notebooks/<name>.ipynb, so that the committed
notebooks carry no outputs and their diffs stay readable:

    python3 scripts/notebook-json.py notebooks/src/01_slimmable_kws.txt

It refuses code lines longer than 100 characters (the exported HTML cuts them off).
"""
import json
import os
import sys

MAX = 100


def cells(text):
    out, kind, buf = [], None, []
    for line in text.splitlines():
        if line.startswith('%% '):
            if kind:
                out.append((kind, buf))
            kind, buf = line[3:].strip(), []
        else:
            buf.append(line)
    if kind:
        out.append((kind, buf))
    return out


def main(src):
    name = os.path.splitext(os.path.basename(src))[0]
    dst = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(src))), name + '.ipynb')
    nb_cells = []
    for kind, lines in cells(open(src, encoding='utf8').read()):
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if kind == 'code':
            for i, l in enumerate(lines):
                if len(l) > MAX:
                    sys.exit(f'{src}: a code line is {len(l)} characters (max {MAX}): {l}')
        source = [l + '\n' for l in lines[:-1]] + lines[-1:]
        cell = {'cell_type': kind, 'id': f'cell-{len(nb_cells):02d}', 'metadata': {}, 'source': source}
        if kind == 'code':
            cell.update({'execution_count': None, 'outputs': []})
        nb_cells.append(cell)
    nb = {
        'cells': nb_cells,
        'metadata': {
            'kernelspec': {'display_name': 'TypeScript', 'language': 'typescript', 'name': 'tslab'},
            'language_info': {'codemirror_mode': {'mode': 'typescript', 'name': 'javascript', 'typescript': True},
                              'file_extension': '.ts', 'mimetype': 'text/typescript', 'name': 'typescript',
                              'version': '3.7.2'},
        },
        'nbformat': 4, 'nbformat_minor': 5,
    }
    with open(dst, 'w', encoding='utf8') as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)
        f.write('\n')
    print(f'{dst}: {len(nb_cells)} cells')


if __name__ == '__main__':
    for a in sys.argv[1:]:
        main(a)
