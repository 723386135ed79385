/** A filter's node picker: "Any node" or one of the enrolled nodes, by id (the list is fetched once). */
import type { NodeList } from '../api/types.ts';
import { useResource } from '../hooks/use-resource.ts';

export function NodeSelect({ value, onChange, name }: { value: string; onChange(node: string): void; name?: string }) {
  const nodes = useResource<NodeList>('/api/nodes');
  return (
    <select name={name} value={value} onChange={(event) => onChange(event.target.value)}>
      <option value="">Any node</option>
      {nodes.data?.nodes.map((node) => (
        <option key={node.id} value={node.id}>
          {node.name}
        </option>
      ))}
    </select>
  );
}
