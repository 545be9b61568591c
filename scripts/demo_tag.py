"""Load a pipeline with spacy.load and print what it finds in a text: tags, chunks, entities.

    python scripts/demo_tag.py PIPELINE TEXT [--path DIR]

--path adds a folder to the import path first (a `pip install --target` folder).
"""
import argparse
import sys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("pipeline", help="Package name or folder.")
    parser.add_argument("text")
    parser.add_argument("--path", default="", help="Folder to import packages from first.")
    args = parser.parse_args()
    if args.path:
        sys.path.insert(0, args.path)
    import spacy

    nlp = spacy.load(args.pipeline)
    doc = nlp(args.text)
    chunk_of = {}
    for chunk in doc.spans.get("chunks", []):
        for i in range(chunk.start, chunk.end):
            chunk_of[i] = ("B-" if i == chunk.start else "I-") + chunk.label_
    print(f"Pipeline: {nlp.meta['lang']}_{nlp.meta['name']} {nlp.meta['version']}: {nlp.pipe_names}")
    print(f"{'TOKEN':<16} {'TAG':<6} {'CHUNK':<8} ENTITY")
    for token in doc:
        entity = f"{token.ent_iob_}-{token.ent_type_}" if token.ent_type_ else "O"
        print(f"{token.text:<16} {token.tag_:<6} {chunk_of.get(token.i, 'O'):<8} {entity}")
    print("Chunks:  ", " ".join(f"[{c.label_} {c.text}]" for c in doc.spans.get("chunks", [])))
    print("Entities:", ", ".join(f"{e.text} ({e.label_})" for e in doc.ents) or "(none)")


if __name__ == "__main__":
    main()
