/** The intrinsic renderer: every intrinsic as what it points to, never as JSON. */
import { outputTarget, renderIntrinsics, text } from '../../scripts/review/intrinsics';

const out = (stack: string, name: string) => ({ 'Fn::GetStackOutput': { StackName: stack, Region: 'us-east-1', OutputName: name } });
const clusterArn = out('platform-production-messaging', 'PublishOutputFnGetAttKafkaCluster21A1BE89ArnDDB38E7D');
const part = (i: number) => ({ 'Fn::Select': [i, { 'Fn::Split': ['/', clusterArn] }] });

describe('text', () => {
  it('writes Ref as <LogicalId>, GetAtt as <LogicalId>.Attr, pseudo parameters as <AWS::...>', () => {
    expect(text({ Ref: 'Queue4A7E3555' })).toBe('<Queue4A7E3555>');
    expect(text({ 'Fn::GetAtt': ['Queue4A7E3555', 'Arn'] })).toBe('<Queue4A7E3555>.Arn');
    expect(text({ 'Fn::GetAtt': 'Db.Endpoint.Address' })).toBe('<Db>.Endpoint.Address');
    expect(text({ Ref: 'AWS::Region' })).toBe('<AWS::Region>');
  });

  it('writes a cross-stack reference as <stack>.Logical.Attr, decoding the output names CDK generates', () => {
    expect(text(clusterArn)).toBe('<platform-production-messaging>.KafkaCluster.Arn');
    expect(outputTarget('PublishOutputRefNetworkVpcrestrictedSubnet1Subnet384E718652290E9F')).toBe('NetworkVpcrestrictedSubnet1Subnet');
    // The hash 1217B07FC ends in a hex digit the attribute starts with: the attribute is a capitalized word.
    expect(outputTarget('PublishOutputFnGetAttPostgresReplica1217B07FCEndpointAddressDE1C8720')).toBe('PostgresReplica1.EndpointAddress');
    expect(outputTarget('SomethingHandWritten')).toBe('SomethingHandWritten');
    expect(text({ 'Fn::ImportValue': 'platform-production-network:ExportsOutputRefVpc8378EB38272D6E3A' })).toBe('<platform-production-network>.Vpc');
    expect(text({ 'Fn::ImportValue': 'shared-vpc-id' })).toBe('<import shared-vpc-id>');
  });

  it('joins Fn::Join and Fn::Sub with the references inline', () => {
    expect(text({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { Ref: 'Bucket' }, '/*']] })).toBe('arn:<AWS::Partition>:s3:::<Bucket>/*');
    expect(text({ 'Fn::Sub': 'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Queue.QueueName}-${Suffix}${!Literal}' }))
      .toBe('arn:<AWS::Partition>:sqs:<AWS::Region>:<AWS::AccountId>:<Queue>.QueueName-<Suffix>${Literal}');
    expect(text({ 'Fn::Sub': ['topic/${Cluster}/order.created', { Cluster: { 'Fn::Select': [1, { 'Fn::Split': ['/', 'arn:aws:kafka:r:a:cluster/orders/uuid'] }] } }] }))
      .toBe('topic/orders/order.created');
  });

  it('evaluates Select of a literal list and Split of a literal, and writes a part of a reference readably', () => {
    expect(text({ 'Fn::Select': [1, ['a', { Ref: 'B' }, 'c']] })).toBe('<B>');
    expect(text({ 'Fn::Select': ['2', { 'Fn::Split': [',', 'x,y,z'] }] })).toBe('z');
    expect(text(part(1))).toBe('<platform-production-messaging>.KafkaCluster.Arn.split("/")[1]');
    expect(text({ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] })).toBe('<AZ 0 of <AWS::Region>>');
  });

  it('joins consecutive parts of one split, separated by its delimiter, into a range (the topic ARN CDK writes)', () => {
    // Verbatim from a synthesized messaging consumer: the cluster's name and uuid, picked from a literal list.
    const parts = [part(0), part(1), part(2)];
    const topicArn = { 'Fn::Join': ['', ['arn:aws:kafka:us-east-1:111111111111:topic/', { 'Fn::Select': [1, parts] }, '/', { 'Fn::Select': [2, parts] }, '/order.created']] };
    expect(text(topicArn)).toBe('arn:aws:kafka:us-east-1:111111111111:topic/<platform-production-messaging>.KafkaCluster.Arn.split("/")[1..2]/order.created');
    expect(text({ 'Fn::Join': ['/', [part(1), part(2)]] })).toBe('<platform-production-messaging>.KafkaCluster.Arn.split("/")[1..2]');
    // Not consecutive: two parts.
    expect(text({ 'Fn::Join': ['/', [part(0), part(2)]] })).toContain('split("/")[0]/<platform-production-messaging>');
  });

  it('writes the other intrinsics as calls, never as JSON', () => {
    expect(text({ 'Fn::If': ['IsProd', { Ref: 'A' }, { Ref: 'AWS::NoValue' }] })).toBe('If(IsProd, <A>, )');
    expect(text({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] }] })).toBe('Not(Equals(<Env>, prod))');
    expect(text({ 'Fn::And': [{ Condition: 'A' }, { Condition: 'B' }] })).toBe('And(Condition(A), Condition(B))');
    expect(text({ 'Fn::FindInMap': ['Regions', { Ref: 'AWS::Region' }, 'Ami'] })).toBe('Regions[<AWS::Region>][Ami]');
    expect(text({ 'Fn::Base64': { 'Fn::Sub': 'echo ${Queue}' } })).toBe('Base64(echo <Queue>)');
    expect(text({ 'Fn::Join': [',', { 'Fn::GetAZs': '' }] })).toBe('Join(,, <AZs of <AWS::Region>>)');
  });
});

describe('renderIntrinsics', () => {
  it('replaces every intrinsic in a fragment, drops AWS::NoValue, keeps the structure', () => {
    const statement = {
      Effect: 'Allow', Action: ['kafka-cluster:ReadData'],
      Resource: [clusterArn, { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Bucket', 'Arn'] }, '/*']] }, { Ref: 'AWS::NoValue' }],
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      Sid: { Ref: 'AWS::NoValue' },
    };
    expect(renderIntrinsics(statement)).toEqual({
      Effect: 'Allow', Action: ['kafka-cluster:ReadData'],
      Resource: ['<platform-production-messaging>.KafkaCluster.Arn', '<Bucket>.Arn/*'],
      Condition: { StringEquals: { 'aws:SourceAccount': '<AWS::AccountId>' } },
    });
    expect(JSON.stringify(renderIntrinsics({ a: [{ 'Fn::Cidr': [{ 'Fn::GetAtt': ['Vpc', 'CidrBlock'] }, 4, 8] }] }))).not.toContain('Fn::');
  });
});
